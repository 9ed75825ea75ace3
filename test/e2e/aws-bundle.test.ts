/**
 * The serverless example's handlers bundled as the AWS bench bundles them (esbuild, ESM, the AWS
 * and platform SDKs external): parley on SQS and DynamoDB holds neither ioredis nor BullMQ, which
 * it loads only on Redis, and the bundled ingress handler, run in a fresh process, verifies and
 * answers a signed Slack url_verification without loading them, nor Bolt (loaded on first need).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleAwsExample, ingressColdStart } from '../../bench/aws.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { signSlack } from '../helpers/slack-events.js';

const dir = join(new URL('../..', import.meta.url).pathname, 'node_modules', '.cache', 'parley-test-aws-bundle');
const SECRET = 'bundle-test-secret';
const moto = useMoto();

/** Imports the bundle, answers one event, and says which Redis packages were loaded on the way. */
const runner = `
import { createRequire } from 'node:module';
const { handler } = await import('./ingress.mjs');
const result = await handler(JSON.parse(process.env.EVENT));
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /node_modules\\/(ioredis|bullmq|@slack\\/bolt|@slack\\/socket-mode)\\//.test(path));
console.log(JSON.stringify({ statusCode: result.statusCode, body: result.body, loaded }));
process.exit(0);
`;

describe('the serverless example, bundled', () => {
  it('holds neither ioredis nor BullMQ, and its ingress answers without loading them or Bolt', async () => {
    const bundles = await Promise.all([bundleAwsExample('ingress', dir), bundleAwsExample('worker', dir)]);
    for (const { packages } of bundles) {
      expect(packages.has('parley')).toBe(true);
      expect([...packages].filter((name) => name === 'ioredis' || name === 'bullmq')).toEqual([]);
    }
    writeFileSync(join(dir, 'run.mjs'), runner);
    const body = JSON.stringify({ token: 't', challenge: 'bundled-challenge', type: 'url_verification' });
    const event = httpApiEvent({ method: 'POST', path: '/slack/events', body, headers: { 'content-type': 'application/json', ...signSlack(SECRET, body) } });
    const output = execFileSync(process.execPath, [join(dir, 'run.mjs')], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, EVENT: JSON.stringify(event), LOG_LEVEL: 'silent', SLACK_BOT_TOKEN: 'xoxb-bundle', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: 'http://127.0.0.1:9/api/', AWS_REGION: 'us-east-1' },
    });
    const answer = JSON.parse(output.trim().split('\n').pop()!) as { statusCode: number; body: string; loaded: string[] };
    expect(answer.statusCode).toBe(200);
    expect(answer.body).toContain('bundled-challenge');
    expect(answer.loaded).toEqual([]);
  }, 60_000);

  it("the bench's cold start is the deployed one: on SQS and DynamoDB, its first event a mention that is claimed and queued", async () => {
    await bundleAwsExample('ingress', join(new URL('../..', import.meta.url).pathname, 'node_modules', '.cache', 'parley-bench-aws'));
    const run = await ingressColdStart(moto().url, `cold-${Date.now().toString(36)}`);
    expect(run.firstMs).toBeGreaterThan(0);
    // Every event the handler acknowledged is in SQS once: the bench's delivered / lost / duplicated.
    expect({ sent: run.sent, delivered: run.delivered, lost: run.lost, duplicated: run.duplicated }).toEqual({ sent: 51, delivered: 51, lost: 0, duplicated: 0 });
  }, 60_000);
});
