/**
 * The AWS commands (the real CLI, in its own process) run with no region, no credentials, or
 * credentials AWS refuses. The SDK's own words ("Region is missing", "Could not load credentials
 * from any providers", "The security token included in the request is invalid") name no setting:
 * each line now says which variables to set, and never shows the secret itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRefusingAws, type RefusingAws } from '../helpers/aws-refusing.js';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const SECRET = 'wJalrXUtnFEMI-parley-test-secret-7f3a';
let refusing: RefusingAws;
let url = '';

beforeAll(async () => {
  refusing = await startRefusingAws();
  url = refusing.url;
});
afterAll(() => refusing.close());

/** Run the CLI with only `env` (no AWS config files, no instance metadata): its exit code and output. */
async function parley(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const isolated = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: 'true', LOG_LEVEL: 'silent' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, parleyArgs(...args), { cwd: root, env: { ...isolated, ...env }, timeout: 30_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | null; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const endpoints = () => ({ AWS_ENDPOINT_URL_DYNAMODB: url, AWS_ENDPOINT_URL_SQS: url, DYNAMODB_TABLE_PREFIX: 'creds', SQS_QUEUE_URL: `${url}/123456789012/creds.fifo` });
const keys = { AWS_ACCESS_KEY_ID: 'AKIAPARLEYTEST', AWS_SECRET_ACCESS_KEY: SECRET };

describe('the AWS commands with the caller misconfigured', () => {
  it('no AWS_REGION: parley aws setup says to set it', async () => {
    const run = await parley(['aws', 'setup'], { ...endpoints(), ...keys });
    expect(run.code, run.out).toBe(1);
    expect(run.out).toMatch(/parley aws setup failed: .*Region is missing.*set AWS_REGION/);
  }, 60_000);

  it('no credentials: parley check names the variables to set, on every AWS line', async () => {
    const run = await parley(['check'], { ...endpoints(), AWS_REGION: 'us-east-1' });
    expect(run.code, run.out).toBe(1);
    const failed = run.out.split('\n').filter((line) => line.startsWith('FAIL'));
    expect(failed.length, run.out).toBeGreaterThanOrEqual(2);
    for (const line of failed) {
      expect(line).toMatch(/Could not load credentials.*no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      // The clients explain their errors too (serve, worker): the line says it once.
      expect(line.match(/no AWS credentials found/g), line).toHaveLength(1);
    }
  }, 60_000);

  it('credentials AWS refuses: parley check and parley dlq list say so and what to check, without the secret', async () => {
    const check = await parley(['check'], { ...endpoints(), ...keys, AWS_REGION: 'us-east-1' });
    expect(check.code, check.out).toBe(1);
    expect(check.out).toMatch(/FAIL {2}DynamoDB store: .*The security token included in the request is invalid.*AWS refused the credentials: check AWS_ACCESS_KEY_ID/);
    expect(check.out).toMatch(/FAIL {2}SQS queue: .*AWS refused the credentials/);
    const dlq = await parley(['dlq', 'list'], { ...endpoints(), ...keys, AWS_REGION: 'us-east-1' });
    expect(dlq.code, dlq.out).toBe(1);
    expect(dlq.out).toMatch(/cannot reach the queue \(SQS_QUEUE_URL\): .*AWS refused the credentials/);
    expect(check.out + dlq.out).not.toContain(SECRET);
  }, 60_000);
});
