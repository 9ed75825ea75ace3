/**
 * Forgetting jobs on BullMQ: a finished job (completed, kept a day; failed, kept until replayed or
 * purged) still holds its message. Through BullMQ's own API (`Job.remove`), never its keys.
 */
import type { Queue } from 'bullmq';
import type { BullDeadLetters } from './bullmq-dead-letters.js';
import type { Forgotten } from './queue.js';

export async function removeFinished(queue: Queue, letters: BullDeadLetters<unknown>, ids: string[]): Promise<Forgotten> {
  await queue.waitUntilReady();
  const forgotten: Forgotten = { removed: 0, unfinished: 0 };
  for (const id of ids) {
    if (await letters.direct(id)) {
      await letters.removeDirect(id);
      forgotten.removed++;
    }
    const job = await queue.getJob(id);
    if (!job) continue;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') {
      await job.remove();
      forgotten.removed++;
    } else if (state !== 'unknown') {
      forgotten.unfinished++; // waiting or running: it will be answered, then kept as any other
    }
  }
  return forgotten;
}
