/**
 * The package test's TypeScript consumer: a file using every entry point of the installed package,
 * compiled with the README's snippets in the project with every SDK, as a user's build would.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runIn } from './project.js';
import { readmeSnippets } from './readme-snippets.js';

/** The TypeScript consumer: every entry point, typed options (given values that may be undefined too), the AWS exports. */
const CONSUMER = `import { createBot, loadConfig, type Adapter } from 'parley';
import type { Adapter as KitAdapter, HttpRequest } from 'parley/adapter-kit';
import { webChat } from 'parley/adapters/web';
import { slackAdapter } from 'parley/adapters/slack';
import { whatsappAdapter } from 'parley/adapters/whatsapp';
import { intercomAdapter } from 'parley/adapters/intercom';
import { lambdaHandler, sqsWorker, sqsQueueFromConfig, DynamoStore, type HttpEvent } from 'parley/aws';

const web: KitAdapter = webChat();
const adapters: Adapter[] = [web];
export const bot = createBot({ adapters });
export const factories = [slackAdapter, whatsappAdapter, intercomAdapter] as const;
// Typed options: only what has no default (the rest as the env variables' defaults).
export const built = () => [
  slackAdapter({ botToken: 'xoxb-1', signingSecrets: ['signing-secret'] }),
  slackAdapter({ botToken: 'xoxb-1', signingSecret: 'signing-secret' }),
  whatsappAdapter({ accountSid: 'AC00000000000000000000000000000000', authTokens: ['auth-token'], from: 'whatsapp:+14155238886' }),
  intercomAdapter({ accessToken: 'access-token', clientSecrets: ['client-secret'] }),
];
export const lambda = { http: lambdaHandler(bot), sqs: sqsWorker(bot), store: DynamoStore };
// Values that may be undefined, as examples/ pass them (config.web.token, process.env.…): left out, also under exactOptionalPropertyTypes.
export const fromMaybe = (config = loadConfig()) => createBot({
  config: { ai: { apiKey: process.env.MY_OPENAI_KEY, fallback: { model: 'gpt-4o-mini', apiKey: process.env.FALLBACK_KEY } }, redisUrl: process.env.REDIS_URL, queue: { attempts: undefined } },
  adapters: [
    webChat({ page: true, token: config.web.token, limits: { trustProxy: undefined } }),
    slackAdapter({ botToken: 'xoxb-1', signingSecret: process.env.SLACK_SIGNING_SECRET, apiUrl: process.env.SLACK_API_URL, app: undefined }),
    whatsappAdapter({ accountSid: 'AC00000000000000000000000000000000', authTokens: ['auth-token'], from: process.env.TWILIO_WHATSAPP_FROM, path: undefined }),
    intercomAdapter({ accessToken: 'access-token', clientSecrets: ['client-secret'], adminId: process.env.INTERCOM_ADMIN_ID }),
  ],
  queue: sqsQueueFromConfig(config),
  logger: undefined,
  routes: { metrics: undefined },
});
export type Event = HttpEvent;
export type RawRequest = HttpRequest['body'];
`;

/**
 * Compile the consumer and the README's snippets in the `full` project with `resolution`, and
 * skipLibCheck false. tsc takes over a minute on a loaded 2-core machine, so install.test.ts's
 * beforeAll starts both compiles and their tests await them: they run during the web-only app's tests.
 */
export async function compileConsumer(full: string, resolution: 'node16' | 'bundler'): Promise<{ snippets: number; code: number; output: string }> {
  await writeFile(join(full, `consumer-${resolution}.ts`), CONSUMER);
  // With it, the README's snippets, each in a file of its own: one naming what parley no longer has fails here.
  const snippets = readmeSnippets();
  for (const { line, source } of snippets) await writeFile(join(full, `readme-${resolution}-line-${line}.ts`), source);
  const module = resolution === 'bundler' ? 'esnext' : resolution;
  const files = [`consumer-${resolution}.ts`, ...snippets.map(({ line }) => `readme-${resolution}-line-${line}.ts`)];
  // exactOptionalPropertyTypes, as @tsconfig/strictest sets it: options given a value that may be undefined still compile.
  const config = { compilerOptions: { module, moduleResolution: resolution, target: 'ES2022', strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true, types: ['node'] }, files };
  await writeFile(join(full, `tsconfig.${resolution}.json`), JSON.stringify(config, null, 2));
  // Started before the tests that await it, its time limit is the tests' own (test/package/vitest.config.ts).
  return { snippets: snippets.length, ...(await runIn(full, 'npx', ['tsc', '-p', `tsconfig.${resolution}.json`], {}, 240_000)) };
}
