/**
 * `parley check` and `parley aws setup` (the real CLI, in its own process) when the AWS endpoint
 * accepts connections and never answers: each check fails within seconds naming the endpoint,
 * and both commands exit 1 instead of hanging. And `parley dlq` against an SQS that answers with
 * an error: it says which.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startBlackHole, type BlackHole } from '../helpers/black-hole.js';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
let hole: BlackHole;
beforeAll(async () => {
  hole = await startBlackHole();
});
afterAll(async () => {
  await hole.close();
});

function awsAt(url: string): Record<string, string> {
  return { AWS_ENDPOINT_URL_DYNAMODB: url, AWS_ENDPOINT_URL_SQS: url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
}

/** Run the CLI; its exit code (-1: killed after 30 s, still hanging), output and how long it took. */
async function parley(args: string[], env: Record<string, string>): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, parleyArgs(...args), {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...env },
      timeout: 30_000,
    });
    return { code: 0, out: stdout + stderr, ms: Date.now() - started };
  } catch (error) {
    const failed = error as { code?: number | null; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}`, ms: Date.now() - started };
  }
}

// Each test waits out the CLI's deadlines in its own process: side by side (the black hole holds any
// number of connections; the dlq test has its own servers).
describe.concurrent('the AWS commands against an endpoint that never answers', () => {
  it('parley check: a FAIL line for each table and the queue, naming the endpoint, then exit 1', async ({ expect }) => {
    const queueUrl = `${hole.url}/123456789012/q.fifo`;
    const run = await parley(['check'], { ...awsAt(hole.url), DYNAMODB_TABLE_PREFIX: 'silent', CONVERSATION_LOG_TABLE: 'ai_conversations', SQS_QUEUE_URL: queueUrl });
    expect(run.code, run.out).toBe(1);
    expect(run.ms).toBeLessThan(15_000);
    expect(run.out).toMatch(new RegExp(`FAIL  DynamoDB store: DynamoDB table silent-store at ${hole.url}: `));
    expect(run.out).toMatch(new RegExp(`FAIL  conversation log: DynamoDB table ai_conversations at ${hole.url}: `));
    expect(run.out).toContain(`FAIL  SQS queue: ${queueUrl}: `);
  }, 60_000);

  it('parley aws setup with DynamoDB silent: fails and exits 1', async ({ expect }) => {
    const run = await parley(['aws', 'setup'], { ...awsAt(hole.url), DYNAMODB_TABLE_PREFIX: 'silent' });
    expect(run.code, run.out).toBe(1);
    expect(run.ms).toBeLessThan(15_000);
    expect(run.out).toContain(`DynamoDB at ${hole.url}`);
    expect(run.out).toContain('parley aws setup failed: ');
  }, 60_000);

  it('parley dlq against an SQS that answers with an error (throttled, access denied): names the error, exit 1', async ({ expect }) => {
    const refusals = [
      { status: 400, type: 'RequestThrottled', message: 'Rate exceeded' },
      { status: 400, type: 'AccessDenied', message: 'User is not authorized to perform sqs:GetQueueAttributes' },
    ];
    for (const refusal of refusals) {
      // SQS's JSON protocol: the error's type in the body, its query-compatible code in a header.
      const sqs = createServer((request, response) => {
        request.resume();
        request.on('end', () => response.writeHead(refusal.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${refusal.type};Sender` }).end(JSON.stringify({ __type: `com.amazonaws.sqs#${refusal.type}`, message: refusal.message })));
      });
      await new Promise<void>((resolve) => sqs.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(sqs.address() as { port: number }).port}`;
      const run = await parley(['dlq', 'list'], { ...awsAt(url), SQS_QUEUE_URL: `${url}/123456789012/q.fifo` }).finally(() => sqs.close());
      expect(run.code, run.out).toBe(1);
      expect(run.out).toContain(`cannot reach the queue (SQS_QUEUE_URL): ${refusal.type}: ${refusal.message}`);
    }
  }, 60_000);

  it('parley aws setup with SQS silent: fails and exits 1', async ({ expect }) => {
    const run = await parley(['aws', 'setup'], { ...awsAt(hole.url), SQS_QUEUE_URL: `${hole.url}/123456789012/q.fifo` });
    expect(run.code, run.out).toBe(1);
    expect(run.ms).toBeLessThan(15_000);
    expect(run.out).toContain('parley aws setup failed: ');
  }, 60_000);
});
