#!/usr/bin/env node
/**
 * The `parley` command: serve | worker | check. Configuration comes from the environment and an
 * optional .env file in the working directory.
 */
import { ConfigError, loadConfig, MissingDependencyError, type Config } from '../src/index.js';
import { readArgs, unknownCommand } from './args.js';
import { awsConfigured } from '../aws/index.js';
import { adapterConfigErrors, joinConfigErrors, misspeltParleyVariables } from './adapters.js';
import { misspeltMessage } from '../src/config-misspelt.js';
import { quietAwsNodeWarning } from './aws-node-warning.js';
import { awsSetup } from './aws-setup.js';
import { check } from './check.js';
import { dlq } from './dlq.js';
import { loadEnvFile } from './env-file.js';
import { serve } from './serve.js';
import { ListenError } from './listen-error.js';
import { packageVersion } from './version.js';
import { worker } from './worker.js';
import { metricsPortError } from './worker-metrics.js';
import { workerNiceError } from './worker-nice.js';
import { simulateSlack } from './simulate.js';
import { slackReseal } from './slack-reseal.js';
import { simulateIntercom } from './simulate-intercom.js';
import { simulateWhatsApp } from './simulate-whatsapp.js';

const usage = `usage: parley <command>
       parley --version | --help

  serve [--no-worker]   run the bot server (what npm start runs)
  worker [--concurrency N]
                        run workers only (needs REDIS_URL or SQS_QUEUE_URL)
  dlq list [--user ID] [--conversation TEXT] | show ID | replay ID | replay --all | drop ID | purge
                        the dead letters on SQS (SQS_QUEUE_URL) or Redis
  aws setup             create the configured DynamoDB tables and SQS queues (idempotent)
  check                 validate the configuration and reach Redis, DynamoDB, SQS (when set) and the AI provider
  slack reseal          seal every Slack installation (DynamoDB or Redis) with the first SLACK_INSTALLATION_KEY
                        (finishes a key rotation); names those no listed key opens (exit 1)
  simulate slack "text" [--dm] [--retry N] [--url URL] [--channel ID] [--user ID] [--team ID]
                        send a correctly signed Slack event to a running server
                        (with OAuth, --team names a workspace installed there)
  simulate intercom "text" [--conversation ID] [--url URL]
                        send a correctly signed Intercom notification to a running server
  simulate whatsapp "text" [--from whatsapp:+1555...] [--to whatsapp:+1415...] [--url URL]
                        send a correctly signed Twilio WhatsApp webhook to a running server
                        (--to: the bot's number written to; default TWILIO_WHATSAPP_FROM)
`;

/** The commands that may talk to DynamoDB or SQS (simulate only posts to a running server). */
const AWS_COMMANDS = new Set(['serve', 'worker', 'dlq', 'aws', 'check', 'slack']);

async function main(argv: string[]): Promise<number> {
  const args = readArgs(argv, usage);
  if ('refused' in args) {
    console.error(args.refused);
    return 2;
  }
  const { positionals, values } = args;
  const [command] = positionals;
  if (values.version) {
    console.log(packageVersion());
    return 0;
  }
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  const unreadable = loadEnvFile('.env', process.env, (line) => console.error(line));
  if (unreadable) {
    console.error(unreadable);
    return 1;
  }
  const config = readConfig(command);
  if (!config) return 1;
  // Before any AWS client is made: one line of ours instead of the SDK's nine (aws-node-warning.ts).
  if (AWS_COMMANDS.has(command) && awsConfigured(config)) {
    const note = quietAwsNodeWarning(process.env, process.version);
    if (note) console.error(note);
  }
  switch (command) {
    case 'serve':
      // Queued in this process's memory with no worker here, a message would never be answered: refused as `worker` is.
      if (values['no-worker'] && config.mode === 'queue' && !config.redisUrl && !config.sqsQueueUrl) {
        console.error('parley serve --no-worker: the messages it takes wait for workers in another process, which share the queue through Redis or SQS. Set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379) or SQS_QUEUE_URL, or run `parley serve` without --no-worker, which answers them in the same process.');
        return 2;
      }
      await serve(config, { worker: !values['no-worker'] });
      return -1; // keeps running
    case 'worker':
      if (!config.redisUrl && !config.sqsQueueUrl) {
        console.error('parley worker: separate worker processes share the queue through Redis or SQS. Set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379) or SQS_QUEUE_URL, or run `parley serve`, which answers messages in the same process.');
        return 2;
      }
      await worker(config, values.concurrency ? Number(values.concurrency) : undefined);
      return -1; // keeps running
    case 'dlq':
      return dlq(config, positionals.slice(1), Boolean(values.all), { user: values.user, conversation: values.conversation });
    case 'aws':
      if (positionals[1] !== 'setup') {
        console.error('usage: parley aws setup');
        return 2;
      }
      return awsSetup(config);
    case 'check':
      return check(config);
    case 'slack':
      if (positionals[1] !== 'reseal') {
        console.error('usage: parley slack reseal');
        return 2;
      }
      return slackReseal(config);
    case 'simulate': {
      const [, platform, text] = positionals;
      if (platform === 'intercom' && text) return simulateIntercom(config, { text, conversation: values.conversation, url: values.url });
      if (platform === 'whatsapp' && text) return simulateWhatsApp(config, { text, from: values.from, to: values.to, url: values.url });
      if (platform !== 'slack' || !text) {
        console.error(`usage: parley simulate slack|intercom|whatsapp "text" [--dm] [--retry N] [--conversation ID] [--from whatsapp:+1555...] [--to whatsapp:+1415...] [--url URL]`);
        return 2;
      }
      // A whole number: readArgs refused anything else.
      const retry = values.retry ? Number(values.retry) : 0;
      return simulateSlack(config, { text, dm: values.dm, retry, url: values.url, channel: values.channel, user: values.user, team: values.team });
    }
    default:
      // Refused by readArgs already; kept so the switch stays whole.
      console.error(unknownCommand(String(command), usage));
      return 2;
  }
}

/**
 * The configuration, or undefined once every wrong variable the command reads is printed: the
 * core's, the platforms', the web chat's session secret and (for worker and check) METRICS_PORT,
 * then each misspelt variable, so one run names everything there is to fix.
 */
function readConfig(command: string): Config | undefined {
  const errors: ConfigError[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push(error);
  }
  // serve and worker build the adapters right away; check reports them on its own lines.
  if (errors.length > 0 || command === 'serve' || command === 'worker') errors.push(...adapterConfigErrors(process.env));
  if (command === 'worker' || (command === 'check' && errors.length > 0)) {
    const metrics = metricsPortError(process.env.METRICS_PORT);
    if (metrics) errors.push(metrics);
    const nice = workerNiceError(process.env.WORKER_NICE);
    if (nice) errors.push(nice);
  }
  if (errors.length === 0) return config;
  // A misspelt name is often why a variable is missing: the warning the start would log comes with the errors.
  const misspelt = misspeltParleyVariables(process.env).map((m) => `\n${misspeltMessage(m)}`).join('');
  console.error(`parley: configuration error\n${joinConfigErrors(errors).message}${misspelt}`);
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // An adapter's own variables are validated when the adapter is built, and its SDK loaded then:
    // both are the operator's to fix, so a sentence (with the install command), not a stack.
    if (error instanceof ConfigError) console.error(`parley: configuration error\n${error.message}`);
    else if (error instanceof MissingDependencyError) console.error(`parley: missing dependency\n${error.message}`);
    // A busy PORT or a wrong HOST: one line to act on, not a stack.
    else if (error instanceof ListenError) console.error(`parley serve: ${error.message}`);
    else console.error(error);
    process.exitCode = 1;
  },
);
