/**
 * `parley serve` and `parley worker` on AWS (SQS_QUEUE_URL, DYNAMODB_TABLE_PREFIX) with no
 * credentials, or credentials AWS refuses. They keep running and retrying, so what the operator
 * reads is the log line and /readyz: each now says which variables to set, as `parley check` does,
 * not only the SDK's "Could not load credentials from any providers", and never the secret.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRefusingAws, type RefusingAws } from '../helpers/aws-refusing.js';
import { startParley, type ParleyProcess } from '../helpers/processes.js';

const SECRET = 'wJalrXUtnFEMI-parley-test-secret-9c1e';
const REFUSED = 'AWS refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
const MISSING = 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';

let aws: RefusingAws;
let running: ParleyProcess | undefined;
beforeAll(async () => {
  aws = await startRefusingAws();
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(() => aws.close());

/** Only these credentials: no AWS config files, no instance metadata. */
function env(credentials: Record<string, string>): Record<string, string> {
  return {
    HOME: '/nonexistent',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: aws.url,
    AWS_ENDPOINT_URL_SQS: aws.url,
    DYNAMODB_TABLE_PREFIX: 'creds',
    SQS_QUEUE_URL: `${aws.url}/123456789012/creds.fifo`,
    ...credentials,
  };
}

/** The first JSON log line whose msg matches, once the process has written it. */
function logLine(parley: ParleyProcess, msg: RegExp): Promise<{ msg: string; err?: { message?: string } }> {
  const find = () => parley.logs().split('\n').flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as { msg: string; err?: { message?: string } }] : [])).find((entry) => msg.test(entry.msg));
  return new Promise((resolve, reject) => {
    const look = () => {
      const found = find();
      if (!found) return;
      parley.child.stdout.off('data', look);
      resolve(found);
    };
    parley.child.stdout.on('data', look);
    void parley.exited.then((code) => reject(new Error(`parley exited with ${code} before logging ${msg}:\n${parley.logs()}`)));
    look();
  });
}

async function readyz(parley: ParleyProcess): Promise<{ status: number; body: string }> {
  const response = await fetch(`${parley.url}/readyz`);
  return { status: response.status, body: await response.text() };
}

const cases: { command: string; credentials: Record<string, string>; sdk: string; hint: string }[] = [
  { command: 'worker', credentials: { AWS_ACCESS_KEY_ID: 'AKIAPARLEYTEST', AWS_SECRET_ACCESS_KEY: SECRET }, sdk: 'The security token included in the request is invalid.', hint: REFUSED },
  { command: 'serve', credentials: {}, sdk: 'Could not load credentials from any providers', hint: MISSING },
];

describe('serve and worker on AWS with the caller misconfigured', () => {
  it.each(cases)('parley $command, $sdk: the SQS log line and /readyz say what to set, never the secret', async ({ command, credentials, sdk, hint }) => {
    running = await startParley([command], env(credentials));
    const line = await logLine(running, /^SQS receive failed/);
    expect(line.err?.message).toContain(sdk);
    expect(line.err?.message).toContain(hint);
    const ready = await readyz(running);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(new RegExp(`"queue":"down: [^"]*${hint}`));
    expect(ready.body).toMatch(new RegExp(`"store":"down: [^"]*${hint}`));
    expect(running.logs() + ready.body).not.toContain(SECRET);
  }, 60_000);
});
