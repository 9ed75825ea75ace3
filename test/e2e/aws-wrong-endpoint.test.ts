/**
 * An AWS endpoint variable pointing at something that is not DynamoDB or SQS (another program on
 * that port, a proxy's error page): the SDK can only say `Unknown: UnknownError`, so parley's
 * commands name the HTTP status instead, and still fail (exit 1).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
let server: Server;
let endpoint = '';
beforeAll(async () => {
  // A page for DynamoDB's calls (JSON expected), a JSON error for SQS's: the SDK fails each its own way.
  server = createServer((req, res) => {
    if (/DynamoDB/.test(String(req.headers['x-amz-target']))) res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Run asynchronously: the endpoint is served by this process, which a spawnSync would block. */
function parley(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const options = {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIATEST', AWS_SECRET_ACCESS_KEY: 'test', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    encoding: 'utf8' as const,
    timeout: 30_000,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, parleyArgs(...args), options, (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });
}

describe('an AWS endpoint that answers, but not as AWS', () => {
  it('parley check: the DynamoDB and SQS lines name the HTTP status, not UnknownError', async () => {
    const run = await parley(['check'], { DYNAMODB_TABLE_PREFIX: 'p', AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_SQS: endpoint, SQS_QUEUE_URL: `${endpoint}/000000000000/q.fifo` });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}DynamoDB store: DynamoDB table p-store at http:\/\/127\.0\.0\.1:\d+: HTTP 404 that is not an AWS answer/m);
    expect(run.stdout).toMatch(/^FAIL {2}SQS queue: http:\/\/127\.0\.0\.1:\d+\/000000000000\/q\.fifo: HTTP 404 that is not an AWS answer/m);
    expect(run.stdout).not.toMatch(/UnknownError|Deserialization|not valid JSON/);
  }, 40_000);

  it('parley dlq list and parley aws setup say the same, exit 1', async () => {
    const dlq = await parley(['dlq', 'list'], { AWS_ENDPOINT_URL_SQS: endpoint, SQS_QUEUE_URL: `${endpoint}/000000000000/q.fifo` });
    expect(dlq.status).toBe(1);
    expect(dlq.stderr).toContain('cannot reach the queue (SQS_QUEUE_URL): HTTP 404 that is not an AWS answer');
    const setup = await parley(['aws', 'setup'], { DYNAMODB_TABLE_PREFIX: 'p', AWS_ENDPOINT_URL_DYNAMODB: endpoint });
    expect(setup.status).toBe(1);
    expect(setup.stderr).toContain('parley aws setup failed: HTTP 404 that is not an AWS answer');
    expect(dlq.stderr + setup.stderr).not.toMatch(/UnknownError|Deserialization|not valid JSON/);
  }, 40_000);
});
