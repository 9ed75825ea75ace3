/**
 * The Lambda figures (`npm run bench`, or alone: `npx tsx bench/aws.ts`):
 *  - the bundled artifacts' sizes: examples/aws/ingress.ts and worker.ts with esbuild (ESM, minified;
 *    the AWS SDK, which the Lambda runtime has, and the platform SDKs parley loads with require stay
 *    external, as examples/aws/serverless.yml packages them);
 *  - the ingress handler's cold start, in a fresh child process, configured as deployed (SQS_QUEUE_URL,
 *    DYNAMODB_TABLE_PREFIX) against a local moto server: importing the bundle, then the first event
 *    (a signed Slack app_mention through an HTTP API 2.0 event: verified, its dedupe claim put in
 *    DynamoDB, sent to SQS, acknowledged; so the AWS SDK's load and first calls are in it), and the
 *    warm per-event duration over the next events; then every acknowledged event is looked for in
 *    SQS: delivered / lost / duplicated. Without python3 and moto it says so and skips.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { loadConfig } from '../src/index.js';
import { setupAws } from '../aws/index.js';
import { decodeEnvelope } from '../aws/sqs-ids.js';

const root = new URL('..', import.meta.url).pathname;
// Inside node_modules, so the bundles resolve their external packages as a deployed function would.
const out = join(root, 'node_modules', '.cache', 'parley-bench-aws');
const external = ['@aws-sdk/*', '@slack/bolt', '@slack/web-api', '@slack/socket-mode', 'twilio', 'intercom-client'];

/**
 * Bundle examples/aws/<name>.ts into `dir` (inside node_modules, so its external packages resolve as
 * in a deployed function); returns the file and the packages the bundle holds.
 */
export async function bundleAwsExample(name: 'ingress' | 'worker', dir: string): Promise<{ file: string; packages: Set<string> }> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.mjs`);
  const result = await build({
    entryPoints: [join(root, 'examples', 'aws', `${name}.ts`)],
    outfile: file,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    metafile: true,
    // pino and others still call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
  const packages = new Set(Object.keys(result.metafile.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'parley'));
  return { file, packages };
}

export async function benchAws(): Promise<void> {
  console.log('\nAWS Lambda (esbuild bundles, minified ESM; AWS and platform SDKs external)');
  for (const name of ['ingress', 'worker'] as const) {
    const { file } = await bundleAwsExample(name, out);
    console.log(`  ${name} bundle: ${(statSync(file).size / 1024).toFixed(0)} KiB`);
  }
  const moto = await startMoto();
  if (!moto) return console.log('  ingress cold start: skipped (needs the moto server: python3 -m pip install "moto[server]")');
  try {
    const runs = 5;
    const results: ColdStart[] = [];
    for (let i = 0; i < runs; i++) results.push(await ingressColdStart(moto.url, `bench-${Date.now().toString(36)}-${i}`));
    const median = (k: keyof ColdStart) => [...results.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(runs / 2)]!;
    console.log(`  ingress cold start on SQS + DynamoDB (moto, median of ${runs} fresh processes): import ${median('importMs').toFixed(0)} ms + first app_mention ${median('firstMs').toFixed(0)} ms = ${(median('importMs') + median('firstMs')).toFixed(0)} ms`);
    console.log(`  ingress warm: ${median('warmMs').toFixed(2)} ms per event (mean of 50, median run)`);
    const sent = results.reduce((sum, r) => sum + r.sent, 0);
    const [delivered, lost, duplicated] = (['delivered', 'lost', 'duplicated'] as const).map((k) => results.reduce((sum, r) => sum + r[k], 0));
    console.log(`  ${sent} events acknowledged with 200 in all ${runs} runs: delivered ${delivered} / lost ${lost} / duplicated ${duplicated} (the jobs in SQS)`);
  } finally {
    moto.stop();
  }
}

export interface ColdStart {
  importMs: number;
  firstMs: number;
  warmMs: number;
  /** Events the handler answered with 200 (every one it was sent, or the run throws). */
  sent: number;
  /** Of those, the ones found in SQS once, missing, and found more than once (extra copies). */
  delivered: number;
  lost: number;
  duplicated: number;
}

/**
 * One cold start of the bundled ingress handler (bundleAwsExample first) in a fresh process, on
 * the SQS queue and DynamoDB store `name` at `endpoint` (created here, as `parley aws setup` does).
 */
export async function ingressColdStart(endpoint: string, name: string): Promise<ColdStart & { queueUrl: string }> {
  const aws = { AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_SQS: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' };
  const env = { ...lambdaEnv, ...aws, SQS_QUEUE_URL: `${endpoint}/123456789012/${name}.fifo`, DYNAMODB_TABLE_PREFIX: name };
  const saved = { ...process.env };
  Object.assign(process.env, aws);
  try {
    await setupAws(loadConfig(env));
  } finally {
    for (const key of Object.keys(aws)) if (saved[key] === undefined) delete process.env[key];
    Object.assign(process.env, saved);
  }
  const script = join(out, 'cold-start.mjs');
  writeFileSync(script, coldStartScript);
  const output = execFileSync(process.execPath, [script], { cwd: out, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  const { ids, ...times } = JSON.parse(output.trim().split('\n').pop()!) as Pick<ColdStart, 'importMs' | 'firstMs' | 'warmMs'> & { ids: string[] };
  const queued = await queuedEventIds(env.SQS_QUEUE_URL, aws);
  const found = ids.filter((id) => queued.includes(id)).length;
  return { ...times, sent: ids.length, delivered: found, lost: ids.length - found, duplicated: queued.length - new Set(queued).size, queueUrl: env.SQS_QUEUE_URL };
}

/**
 * The Slack event ids of the jobs in an SQS queue, each read and deleted (a FIFO queue hands out
 * no more of a group while one of its messages is in flight).
 */
async function queuedEventIds(queueUrl: string, aws: Record<string, string>): Promise<string[]> {
  const { SQSClient, ReceiveMessageCommand, DeleteMessageBatchCommand } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({ endpoint: aws.AWS_ENDPOINT_URL_SQS, region: aws.AWS_REGION, credentials: { accessKeyId: aws.AWS_ACCESS_KEY_ID!, secretAccessKey: aws.AWS_SECRET_ACCESS_KEY! } });
  const ids: string[] = [];
  try {
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) return ids;
      for (const m of Messages) ids.push(decodeEnvelope<{ message?: { id?: string } }>(m.Body)?.data.message?.id ?? '');
      const entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
  } finally {
    sqs.destroy();
  }
}

/** moto's server (test/helpers/moto-server.py) on a free port, or undefined when python3 or moto is missing. */
async function startMoto(): Promise<{ url: string; stop: () => void } | undefined> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn('python3', [join(root, 'test', 'helpers', 'moto-server.py'), '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  child.on('error', () => undefined);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if (await fetch(`${url}/moto-api/`).then((r) => r.ok, () => false)) return { url, stop: () => child.kill() };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  return undefined;
}

const lambdaEnv = {
  LOG_LEVEL: 'silent',
  SLACK_BOT_TOKEN: 'xoxb-bench',
  SLACK_SIGNING_SECRET: 'bench-secret',
  // Nothing answers here: the adapter keeps starting in the background, which acknowledging an event never waits for.
  SLACK_API_URL: 'http://127.0.0.1:9/api/',
};

const coldStartScript = `
import { createHmac, randomUUID } from 'node:crypto';
const t0 = performance.now();
const { handler } = await import('./ingress.mjs');
const t1 = performance.now();
const ids = [];
// Each event from a user of its own, as a workspace's traffic is: one user's 51 would meet the per-user limit.
const event = () => {
  const ts = (Date.now() / 1000).toFixed(6);
  const body = JSON.stringify({ token: 't', team_id: 'T0BENCH', api_app_id: 'A0BENCH', type: 'event_callback', event_id: 'Ev' + randomUUID().replace(/-/g, ''), event_time: Math.floor(Date.now() / 1000),
    event: { type: 'app_mention', user: 'U0BENCH' + ids.length, text: '<@U0BOT> hello', ts, channel: 'C0BENCH', event_ts: ts } });
  const stamp = String(Math.floor(Date.now() / 1000));
  const sig = 'v0=' + createHmac('sha256', 'bench-secret').update('v0:' + stamp + ':' + body).digest('hex');
  return { version: '2.0', routeKey: '$default', rawPath: '/slack/events', rawQueryString: '',
    headers: { host: 'abc.execute-api.us-east-1.amazonaws.com', 'content-type': 'application/json', 'x-slack-signature': sig, 'x-slack-request-timestamp': stamp },
    requestContext: { domainName: 'abc.execute-api.us-east-1.amazonaws.com', http: { method: 'POST', path: '/slack/events', sourceIp: '203.0.113.7' }, stage: '$default' },
    body, isBase64Encoded: false };
};
const send = async () => {
  const e = event();
  const answer = await handler(e);
  if (answer.statusCode !== 200) throw new Error('event ' + (ids.length + 1) + ' answered ' + answer.statusCode + ': ' + answer.body);
  ids.push(JSON.parse(e.body).event_id);
};
await send();
const t2 = performance.now();
const n = 50;
for (let i = 0; i < n; i++) await send();
const t3 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, warmMs: (t3 - t2) / n, ids }));
process.exit(0);
`;

if (import.meta.url === `file://${process.argv[1]}`) await benchAws();
