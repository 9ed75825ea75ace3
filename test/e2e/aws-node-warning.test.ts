/**
 * The AWS SDK for JavaScript (v3) warns on Node before 22 in nine lines (NodeVersionSupportWarning).
 * parley supports Node 20, so its commands that use AWS print one line of their own instead, and
 * leave every other warning alone; an operator who sets the SDK's switch gets what they asked for.
 * Run as a user runs them: the real CLI in its own process, against the moto server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { quietAwsNodeWarning } from '../../cli/aws-node-warning.js';
import { useMoto } from '../helpers/moto.js';
import { parleyArgs } from '../helpers/cli.js';
import { startParley } from '../helpers/processes.js';

const root = new URL('../..', import.meta.url).pathname;
const moto = useMoto();
/** Where the SDK still runs but warns: Node 20 and 21 (parley's CI runs Node 20). */
const OLD_NODE = Number(process.versions.node.split('.')[0]) < 22;
const NOTE = /^parley: note: the AWS SDK's releases after early January 2027 need Node 22 \(this is Node v[\d.]+\); AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false shows the SDK's own warning$/;
const queueUrl = () => `${moto().url}/123456789012/warning-test.fifo`;

async function parley(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...nodeArgs, ...parleyArgs(...args)], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...moto().env, SQS_QUEUE_URL: queueUrl(), ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** What a user on this Node sees of the SDK's Node version warning in `output`. */
function expectOneNoteAtMost(output: string): void {
  expect(output).not.toContain('NodeVersionSupportWarning');
  const notes = output.split('\n').filter((line) => line.includes('AWS SDK'));
  if (OLD_NODE) {
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(NOTE);
  } else expect(notes).toEqual([]);
}

describe("the AWS SDK's Node version warning", () => {
  it('parley aws setup (DynamoDB and SQS): one line of parley\'s, not the SDK\'s nine', async () => {
    const run = await parley(['aws', 'setup'], { DYNAMODB_TABLE_PREFIX: 'warn' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('created  table warn-store');
    expectOneNoteAtMost(run.stderr);
  }, 60_000);

  it('parley dlq list on SQS: the same one line', async () => {
    const run = await parley(['dlq', 'list']);
    expect(run).toMatchObject({ code: 0, stdout: 'no dead letters\n' });
    expectOneNoteAtMost(run.stderr);
  }, 60_000);

  it('parley serve on SQS: the same one line, once its worker has polled the queue', async () => {
    const serve = await startParley(['serve'], { ...moto().env, SQS_QUEUE_URL: queueUrl(), OPENAI_API_KEY: 'test', METRICS_PORT: 'off' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expectOneNoteAtMost(serve.logs());
    } finally {
      await serve.stop();
    }
  }, 60_000);

  it("other warnings are left alone, and the operator's own switch is kept (false: the SDK's own warning, once)", async () => {
    const other = 'data:text/javascript,setImmediate(()=>process.emitWarning("an app\'s own warning","OwnWarning"))';
    const run = await parley(['dlq', 'list'], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }, ['--import', other]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("OwnWarning: an app's own warning");
    expect(run.stderr).not.toContain('parley: note');
    expect(run.stderr.split('NodeVersionSupportWarning')).toHaveLength(OLD_NODE ? 2 : 1);
  }, 60_000);
});

describe('an app embedding parley', () => {
  it("keeps the SDK's own behaviour: importing parley and building its SQS queue sets no switch and hides no warning", async () => {
    const app = `import { loadConfig } from './src/index.ts';
import { sqsQueueFromConfig } from './aws/index.ts';
const queue = sqsQueueFromConfig(loadConfig({ SQS_QUEUE_URL: process.env.SQS_QUEUE_URL }));
await queue.counts().catch(() => undefined);
console.log('switch=' + process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED);
await queue.close(0);`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', app], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...moto().env, SQS_QUEUE_URL: queueUrl() },
      timeout: 60_000,
    });
    expect(stdout).toContain('switch=undefined');
    expect(stderr).not.toContain('parley: note');
    expect(stderr.split('NodeVersionSupportWarning')).toHaveLength(OLD_NODE ? 2 : 1);
  }, 60_000);
});

describe('quietAwsNodeWarning', () => {
  it('Node 20: sets the SDK switch and gives the one line', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(quietAwsNodeWarning(env, 'v20.12.0')).toMatch(NOTE);
    expect(env).toEqual({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  });

  it('Node 22 and later, or a switch the operator set: nothing changed, nothing said', () => {
    for (const [env, version] of [[{}, 'v22.0.0'], [{}, 'v24.1.0'], [{ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }, 'v20.12.0'], [{ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, 'v20.12.0']] as const) {
      const given: NodeJS.ProcessEnv = { ...env };
      expect(quietAwsNodeWarning(given, version)).toBeUndefined();
      expect(given).toEqual(env);
    }
  });
});
