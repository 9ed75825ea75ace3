/**
 * Run as its own process (test/e2e/slack-lazy-bolt.test.ts): a bot with the Slack adapter against
 * a fake Slack and a fake AI, and what Node has loaded of Bolt at each step. A process of its
 * own, because a test worker has loaded Bolt long before.
 */
import { createRequire } from 'node:module';
import { startFakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { startSlackBot } from './slack-bot.js';
import { appMention, postSlack, slashCommand } from './slack-events.js';
import { until } from './until.js';

const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/node_modules/@slack/bolt/'));
const slack = await startFakeSlack();
const ai = await startFakeOpenAi();
const server = await startSlackBot(slack, ai);
const steps: Record<string, unknown> = { started: loaded(), authTests: slack.callsTo('auth.test').length };
const mention = await postSlack(server.url, appMention({ text: 'no Bolt needed' }));
await until(() => slack.callsTo('chat.postMessage').length === 1, 'the reply');
Object.assign(steps, { mentionStatus: mention.status, replies: slack.callsTo('chat.postMessage').length, afterMention: loaded() });
const command = await postSlack(server.url, slashCommand({ command: '/nobody-listens', text: '' }));
Object.assign(steps, { commandStatus: command.status, afterCommand: loaded(), authTestsAfter: slack.callsTo('auth.test').length });
await server.close();
await Promise.all([slack.close(), ai.close()]);
console.log(JSON.stringify(steps));
process.exit(0);
