/**
 * The pack-and-install test: the tarball `npm pack` makes, installed into fresh Node 20 projects
 * with only what a user would install. A web-only project gets the tarball alone (no Slack,
 * Twilio or Intercom SDK); a full one adds the three SDKs and TypeScript.
 */
import { readFileSync, statSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { deleteKeys, REDIS_URL, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';
import { packagesImportedUnder, packagesLoadedBy } from './imports.js';
import { createProject, packParley, runIn, startIn } from './project.js';
import { compileConsumer } from './typescript-consumer.js';

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
/** The platform SDKs: optional peers that the full project installs and the web-only one goes without. */
const SDKS = ['@slack/bolt', '@slack/web-api', '@slack/socket-mode', 'twilio', 'intercom-client'];
/** parley/aws's optional peers: the full project has them, so its TypeScript consumer compiles against them. */
const AWS_SDKS = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-sqs'];
/** The console's script and the ES modules it imports (src/console/assets). */
const CONSOLE_SCRIPTS = ['console.js', 'api.js', 'dom.js', 'format.js', 'overview.js', 'chart.js', 'budgets.js', 'conversations.js', 'dead-letters.js', 'clamp.js'];
const ENTRIES = ['parley', 'parley/adapters/web', 'parley/adapters/slack', 'parley/adapters/whatsapp', 'parley/adapters/intercom', 'parley/adapter-kit', 'parley/aws'];
/** Every platform configured, with values that pass validation (no adapter calls its platform while starting `check`). */
const PLATFORMS_ENV = {
  SLACK_BOT_TOKEN: 'xoxb-package-test',
  SLACK_SIGNING_SECRET: 'package-test-secret',
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'package-test-token',
  TWILIO_WHATSAPP_FROM: 'whatsapp:+15550001111',
  INTERCOM_ACCESS_TOKEN: 'package-test-token',
  INTERCOM_CLIENT_SECRET: 'package-test-secret',
  INTERCOM_ADMIN_ID: '1234',
};

/**
 * The README section developers copy from: its install commands (npm pack, then npm install of the
 * tarball, until parley is on the registry), and its snippet.
 */
function readmeEmbedding(): { fromTarball: string; fileName: string; snippet: string } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## Embedding parley in your app\n')[1]?.split('\n## ')[0] ?? '';
  const blocks = [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)];
  // The section starts with the commands that install the tarball (the name on npm is another package's).
  const fromTarball = blocks[0]?.[1] === 'sh' && section.trimStart().startsWith('```sh') ? (blocks[0][2] ?? '') : '';
  const snippet = blocks.find((b) => b[1] === 'js')?.[2] ?? '';
  return { fromTarball, fileName: /^\/\/ (\S+\.mjs)/.exec(snippet)?.[1] ?? 'missing-file-name.mjs', snippet };
}

/** The README's `npm install /path/to/parley-….tgz`, pointed at the tarball `npm pack` wrote. */
function readmeTarballInstall(tarball: string): string[] {
  const { fromTarball } = readmeEmbedding();
  const [pack, install] = fromTarball.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
  expect(pack).toBe('npm pack');
  // The file the README names is the one npm pack writes: parley-<version>.tgz.
  expect(install).toBe(`npm install /path/to/${basename(tarball)}`);
  return install!.split(' ').slice(2).map((arg) => arg.replace('/path/to', dirname(tarball)));
}

let tarball: string;
let packed: string[];
let webOnly: string;
let full: string;
let ai: FakeOpenAi;
let compiled: Record<'node16' | 'bundler', ReturnType<typeof compileConsumer>>;

beforeAll(async () => {
  ai = await startFakeOpenAi();
  ({ tarball, files: packed } = await packParley());
  [webOnly, full] = await Promise.all([
    // As the README says to, until parley is on the registry.
    createProject('web-only', readmeTarballInstall(tarball)),
    createProject('full', [tarball, ...SDKS, ...AWS_SDKS, 'typescript@5.9', '@types/node@20']),
  ]);
  compiled = { node16: compileConsumer(full, 'node16'), bundler: compileConsumer(full, 'bundler') };
  // Awaited by their tests; until then a failure (a write refused) must not count as unhandled.
  for (const compile of Object.values(compiled)) compile.catch(() => undefined);
}, 300_000);

afterAll(async () => {
  await ai?.close();
  // The compiles end before their files are removed (they are awaited by their tests, unless those failed first).
  if (compiled) await Promise.allSettled(Object.values(compiled));
  for (const dir of [tarball && dirname(tarball), webOnly, full]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('holds only dist, README, LICENSE and package.json', () => {
    const outside = packed.filter((file) => !file.startsWith('dist/') && !['README.md', 'LICENSE', 'package.json'].includes(file));
    expect(outside).toEqual([]);
    for (const asset of ['page.html', 'frame.html', 'widget.js', 'assets/chat.css', 'assets/chat.js', 'assets/api.js', 'assets/transcript.js', 'assets/markdown.js', 'assets/frame.js']) expect(packed).toContain(`dist/adapters/web/${asset}`);
    expect(packed).toContain('dist/cli/main.js');
    // The build (prepack's, or npm ci's prepare when dist/ was fresh: packParley) left the checkout's bin executable, or the checkout's own `npx parley` gets "Permission denied".
    expect(statSync(new URL('../../dist/cli/main.js', import.meta.url)).mode & 0o111).toBe(0o111);
    for (const asset of ['app.html', 'login.html', 'console.css', ...CONSOLE_SCRIPTS]) expect(packed).toContain(`dist/src/console/assets/${asset}`);
  });

  it('imports only declared packages, and the platform SDKs only as optional peers', () => {
    const dist = join(webOnly, 'node_modules/parley/dist');
    // parley itself too: adapters import it by name (parley/adapter-kit), resolved through its own exports.
    const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const undeclared = [...packagesImportedUnder(dist)].filter(([name]) => !declared.has(name));
    expect(undeclared).toEqual([]);
    for (const peer of Object.keys(manifest.peerDependencies)) expect(manifest.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
    for (const sdk of SDKS) expect(manifest.peerDependencies[sdk], sdk).toBeDefined();
    // No entry point loads an SDK when it is imported: only an adapter's factory does.
    for (const entry of ['src/index.js', 'src/adapter-kit.js', 'adapters/slack/index.js', 'adapters/whatsapp/index.js', 'adapters/intercom/index.js', 'aws/index.js', 'cli/main.js']) {
      expect([...packagesLoadedBy(join(dist, entry))].filter((name) => name in manifest.peerDependencies), entry).toEqual([]);
    }
  });
});

describe('a web-only app (parley alone)', () => {
  it('has no platform SDK installed', async () => {
    const installed = await readdir(join(webOnly, 'node_modules'));
    expect(installed).toContain('openai');
    expect(installed).not.toContain('twilio');
    expect(installed).not.toContain('intercom-client');
    expect(await readdir(join(webOnly, 'node_modules/@slack')).catch(() => [])).toEqual([]);
  });

  it("runs the README's embedding snippet verbatim and answers a web chat message over HTTP (ESM)", async () => {
    const { fileName, snippet } = readmeEmbedding();
    await writeFile(join(webOnly, fileName), snippet);
    const app = await startIn(webOnly, 'node', [fileName], { PORT: '0', OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test' }, /port: (\d+)/);
    try {
      const url = `http://127.0.0.1:${app.match[1]}`;
      const posted = await fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'readme', text: 'hello from the README' }) });
      expect(posted.status).toBe(202);
      const answer = await until(async () => {
        const { messages } = (await (await fetch(`${url}/web/conversations/readme`)).json()) as { messages: { role: string; text: string }[] };
        return messages.find((m) => m.role === 'assistant');
      }, 'the answer in the transcript', 15_000);
      expect(answer.text).toBe('echo: hello from the README');
    } finally {
      await app.stop();
    }
  });

  it('runs on Redis: `npx parley serve` with REDIS_URL loads ioredis and BullMQ from its dependencies and answers through the queue', async () => {
    const redis = await requireRedis();
    const prefix = uniquePrefix();
    const server = await startIn(webOnly, 'npx', ['parley', 'serve'], { PORT: '0', REDIS_URL, REDIS_PREFIX: prefix, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test' }, /"url":"(http:\/\/[^"]+)"/);
    try {
      const url = server.match[1]!;
      const ready = await until(async () => {
        const answer = await fetch(`${url}/readyz`);
        return answer.ok ? ((await answer.json()) as { checks: Record<string, string> }) : undefined;
      }, '/readyz ready');
      expect(ready.checks).toMatchObject({ store: 'ok', queue: 'ok' });
      const posted = await fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'on-redis', text: 'hello over Redis' }) });
      expect(posted.status).toBe(202);
      const answer = await until(async () => {
        const { messages } = (await (await fetch(`${url}/web/conversations/on-redis`)).json()) as { messages: { role: string; text: string }[] };
        return messages.find((m) => m.role === 'assistant');
      }, 'the answer in the transcript', 15_000);
      expect(answer.text).toBe('echo: hello over Redis');
      expect(await redis.exists(`${prefix}:messages:meta`)).toBe(1); // BullMQ's queue, on this prefix
    } finally {
      await server.stop();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  });

  it('answers from CommonJS too: require() on Node 20.19+, import() before', async () => {
    const load = process.features.require_module ? "require('parley')" : "await import('parley')";
    const loadWeb = process.features.require_module ? "require('parley/adapters/web')" : "await import('parley/adapters/web')";
    await writeFile(
      join(webOnly, 'app.cjs'),
      `(async () => {
  const { createBot } = ${load};
  const { webChat } = ${loadWeb};
  const bot = createBot({ adapters: [webChat()] });
  const { port } = (await bot.listen(0, '127.0.0.1')).address();
  const post = await fetch(\`http://127.0.0.1:\${port}/web/messages\`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'cjs', text: 'from CommonJS' }) });
  for (let i = 0; i < 300; i++) {
    const { messages } = await (await fetch(\`http://127.0.0.1:\${port}/web/conversations/cjs\`)).json();
    const answer = messages.find((m) => m.role === 'assistant');
    if (answer) return console.log(JSON.stringify({ status: post.status, text: answer.text })), bot.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no answer in the transcript');
})().catch((error) => { console.error(error); process.exitCode = 1; });
`,
    );
    const { code, output } = await runIn(webOnly, 'node', ['app.cjs'], { OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test' });
    expect(output).toContain('{"status":202,"text":"echo: from CommonJS"}');
    expect(code).toBe(0);
  });

  it('imports every entry point; each platform factory names the npm install command', async () => {
    await writeFile(
      join(webOnly, 'factories.mjs'),
      `${ENTRIES.map((entry, i) => `import * as entry${i} from '${entry}';`).join('\n')}
const { slackAdapter } = entry2, { whatsappAdapter } = entry3, { intercomAdapter } = entry4;
for (const create of [slackAdapter, whatsappAdapter, intercomAdapter]) {
  try { create({}); console.log('no error'); } catch (error) { console.log(error.code, error.message); }
}
`,
    );
    const { code, output } = await runIn(webOnly, 'node', ['factories.mjs']);
    expect(code, output).toBe(0);
    const lines = output.trim().split('\n');
    expect(lines[0]).toMatch(/^parley_missing_dependency slackAdapter\(\).*npm install @slack\/bolt @slack\/web-api @slack\/socket-mode$/);
    expect(lines[1]).toMatch(/^parley_missing_dependency whatsappAdapter\(\).*npm install twilio$/);
    expect(lines[2]).toMatch(/^parley_missing_dependency intercomAdapter\(\).*npm install intercom-client$/);
  });

  it('runs `npx parley check`: ok with the web chat alone, the install command once Slack is configured', async () => {
    // Two checks side by side (each npx start takes seconds): neither changes what the other reads.
    const [web, slack] = await Promise.all([
      runIn(webOnly, 'npx', ['parley', 'check']),
      runIn(webOnly, 'npx', ['parley', 'check'], { SLACK_BOT_TOKEN: PLATFORMS_ENV.SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET: PLATFORMS_ENV.SLACK_SIGNING_SECRET }),
    ]);
    expect(web.output).toContain('adapters: web');
    expect(web.code, web.output).toBe(0);
    expect(slack.output).toContain('npm install @slack/bolt @slack/web-api @slack/socket-mode');
    expect(slack.code).toBe(1);
  });

  it('runs `npx parley --version`: the package\'s version, from its package.json two levels above dist/cli', async () => {
    const { code, output } = await runIn(webOnly, 'npx', ['parley', '--version']);
    expect(output.split('\n'), output).toContain(manifest.version); // npx may add warnings of its own
    expect(code).toBe(0);
  });

  it('runs `npx parley serve` until stopped, answering /healthz and serving the console and the web chat', async () => {
    const adminToken = 'package-test-admin-token';
    const server = await startIn(webOnly, 'npx', ['parley', 'serve'], { PORT: '0', ADMIN_TOKEN: adminToken }, /"url":"(http:\/\/[^"]+)"/);
    try {
      const health = await fetch(`${server.match[1]}/healthz`);
      expect(health.status).toBe(200);
      // The console's pages come from files shipped in dist/: the sign-in page, then the app's script and the modules it imports.
      const signIn = await fetch(`${server.match[1]}/console`);
      expect(signIn.status).toBe(200);
      expect(await signIn.text()).toContain('action="/console/login"');
      for (const name of CONSOLE_SCRIPTS) expect((await fetch(`${server.match[1]}/console/assets/${name}`)).status, name).toBe(200);
      // So do the web chat's page, its frame for websites, the widget and their script and style.
      for (const path of ['/', '/web/frame', '/web/widget.js', '/web/assets/chat.css', ...['chat', 'api', 'transcript', 'markdown', 'frame'].map((name) => `/web/assets/${name}.js`)]) expect((await fetch(`${server.match[1]}${path}`)).status, path).toBe(200);
      const overview = await fetch(`${server.match[1]}/console/api/overview`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(overview.status).toBe(200);
      expect(((await overview.json()) as { minutes: unknown[] }).minutes).toHaveLength(60);
    } finally {
      await server.stop();
    }
    expect(server.output()).toContain('"msg":"stopped"');
  });
});

describe('an app with every platform SDK and TypeScript', () => {
  it('builds every adapter from the installed package (`npx parley check`)', async () => {
    const { code, output } = await runIn(full, 'npx', ['parley', 'check'], PLATFORMS_ENV);
    expect(output).toMatch(/adapters: web, (slack|intercom|whatsapp), (slack|intercom|whatsapp), (slack|intercom|whatsapp)/);
    expect(code, output).toBe(0);
  });

  it.each(['node16', 'bundler'] as const)('compiles a TypeScript consumer and the README\'s snippets with moduleResolution %s and skipLibCheck false', async (resolution) => {
    const { snippets, code, output } = await compiled[resolution];
    expect(snippets).toBeGreaterThan(4);
    expect(output).toBe('');
    expect(code).toBe(0);
  });
});
