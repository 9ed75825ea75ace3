/**
 * An SQS that cannot be reached is logged once when receiving starts to fail and once when it
 * works again, as Redis's connection trouble is: not a warning with a stack every second.
 * SQS is faked at the HTTP boundary: nothing listening (refused), then an empty answer.
 */
import { createServer, type Server } from 'node:http';
import { SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SqsQueue } from '../../aws/index.js';
import { MemoryStore } from '../../src/index.js';
import { freePort } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

/** An SQS endpoint that answers every ReceiveMessage with no messages (after a short wait, as a long poll would). */
async function emptySqs(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'), 100));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('SQS receive failures', () => {
  it('are logged once per change of state', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    // One free port for the whole test: the endpoint goes away and comes back there.
    const port = await freePort();
    const client = new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const queue = new SqsQueue<{ n: number }>({ queueUrl: `http://127.0.0.1:${port}/123456789012/outage.fifo`, client, retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1000 }, waitTimeSeconds: 1 });
    const messages = () => lines.map((line) => line.msg).filter((msg) => /^SQS receive/.test(msg));
    let server: Server | undefined;
    try {
      queue.process(async () => undefined, { concurrency: 1, store: new MemoryStore(), logger });
      // Refused for about 3.5 s: three or four failed receives, one warning.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect(messages()).toEqual(['SQS receive failed; trying again every second (logged again once it works)']);
      server = await emptySqs(port);
      await until(() => messages().length === 2 || undefined, 'the line saying it works again', 5000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await stop(server);
      server = undefined;
      await until(() => messages().length === 3 || undefined, 'the second outage', 5000);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(messages()).toEqual([
        'SQS receive failed; trying again every second (logged again once it works)',
        'SQS receive works again',
        'SQS receive failed; trying again every second (logged again once it works)',
      ]);
    } finally {
      await queue.close(0);
      if (server) await stop(server);
      client.destroy();
    }
  }, 30_000);
});
