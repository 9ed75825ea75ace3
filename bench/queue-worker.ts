/**
 * A worker process for the queue part (bench/queue.ts): the queue a `parley worker` gets on Redis
 * (its intake pump, BullMQ and the turnstile, from the same settings), with a handler that does
 * nothing but wait as long as the bench's AI takes. Its CPU is the queue's own cost per message.
 * Answers an IPC message with the ids it has handled since it was last asked (a job handled twice
 * is there twice), so that the bench's polls cost it little.
 */
import { createBackends } from '../src/backends.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observe/index.js';

const waitMs = Number(process.env.BENCH_QUEUE_WAIT_MS ?? 500);
const concurrency = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 32);
const logger = createLogger('warn');
const queue = createBackends(loadConfig(), logger).queue();
let handled: string[] = [];
queue.process(
  async (job) => {
    handled.push(job.id);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  },
  { concurrency, logger },
);
process.on('message', () => {
  process.send?.(handled);
  handled = [];
});
console.log(`queue worker ready, concurrency ${concurrency}`);
