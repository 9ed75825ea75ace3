/**
 * The Lambda figures (`npm run bench`, or alone: `npx tsx bench/aws.ts`):
 *  - the bundled artifacts' sizes: examples/aws/ingress.ts and worker.ts with esbuild (ESM, minified;
 *    the AWS SDK, which the Lambda runtime has, and the platform SDKs parley loads with require stay
 *    external, as examples/aws/serverless.yml packages them);
 *  - the ingress handler's cold start, in a fresh child process: importing the bundle, then the first
 *    event (a signed Slack url_verification through an HTTP API 2.0 event: verified, answered, nothing
 *    queued), and the warm per-event duration over the next events.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

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
  const script = join(out, 'cold-start.mjs');
  writeFileSync(script, coldStartScript);
  const runs = 5;
  const results: { importMs: number; firstMs: number; warmMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const output = execFileSync(process.execPath, [script], { cwd: out, env: { PATH: process.env.PATH, ...lambdaEnv }, encoding: 'utf8' });
    results.push(JSON.parse(output.trim().split('\n').pop()!));
  }
  const median = (k: keyof (typeof results)[number]) => [...results.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  console.log(`  ingress cold start (median of ${runs} fresh processes): import ${median('importMs').toFixed(0)} ms + first event ${median('firstMs').toFixed(0)} ms = ${(median('importMs') + median('firstMs')).toFixed(0)} ms`);
  console.log(`  ingress warm: ${median('warmMs').toFixed(2)} ms per event (mean of 200, median run)`);
}

const lambdaEnv = {
  LOG_LEVEL: 'silent',
  SLACK_BOT_TOKEN: 'xoxb-bench',
  SLACK_SIGNING_SECRET: 'bench-secret',
  // Nothing answers here: the adapter keeps starting in the background, which a url_verification never waits for.
  SLACK_API_URL: 'http://127.0.0.1:9/api/',
  AWS_REGION: 'us-east-1',
};

const coldStartScript = `
import { createHmac } from 'node:crypto';
const t0 = performance.now();
const { handler } = await import('./ingress.mjs');
const t1 = performance.now();
const event = () => {
  const body = JSON.stringify({ token: 't', challenge: 'c' + Math.random(), type: 'url_verification' });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = 'v0=' + createHmac('sha256', 'bench-secret').update('v0:' + ts + ':' + body).digest('hex');
  return { version: '2.0', routeKey: '$default', rawPath: '/slack/events', rawQueryString: '',
    headers: { host: 'abc.execute-api.us-east-1.amazonaws.com', 'content-type': 'application/json', 'x-slack-signature': sig, 'x-slack-request-timestamp': ts },
    requestContext: { domainName: 'abc.execute-api.us-east-1.amazonaws.com', http: { method: 'POST', path: '/slack/events', sourceIp: '203.0.113.7' }, stage: '$default' },
    body, isBase64Encoded: false };
};
const first = await handler(event());
if (first.statusCode !== 200) throw new Error('first event answered ' + first.statusCode + ': ' + first.body);
const t2 = performance.now();
const n = 200;
for (let i = 0; i < n; i++) await handler(event());
const t3 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, warmMs: (t3 - t2) / n }));
process.exit(0);
`;

if (import.meta.url === `file://${process.argv[1]}`) await benchAws();
