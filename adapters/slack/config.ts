import { z } from 'zod';
import { ConfigError, parseEnv, schemas, type Variable } from 'parley';

/** Slack's variables; the adapter is on when the bot token and the signing secret are set. */
export const slackVariables = {
  SLACK_BOT_TOKEN: { schema: z.string().regex(/^xox[bp]-/, 'expected a bot token starting with xoxb-'), fix: 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from your app\'s "OAuth & Permissions" page' },
  SLACK_SIGNING_SECRET: { schema: z.string().min(8), fix: 'set SLACK_SIGNING_SECRET to the Signing Secret from your app\'s "Basic Information" page (several, comma-separated, while rotating)' },
  SLACK_APP_TOKEN: { schema: z.string().regex(/^xapp-/, 'expected an app-level token starting with xapp-'), fix: 'set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write to use Socket Mode, or unset it' },
  SLACK_API_URL: { schema: schemas.url, default: 'https://slack.com/api/', fix: 'set SLACK_API_URL to the Web API base, e.g. https://slack.com/api/' },
  SLACK_EVENTS_PATH: { schema: z.string().startsWith('/'), default: '/slack/events', fix: 'set SLACK_EVENTS_PATH to a path starting with /, e.g. /slack/events' },
  SLACK_STREAMING: { schema: schemas.bool, default: 'off', fix: 'set SLACK_STREAMING=on to stream replies as they are generated, or off' },
  SLACK_THREAD_FOLLOWUPS: { schema: schemas.bool, default: 'on', fix: 'set SLACK_THREAD_FOLLOWUPS=off to answer in threads only when mentioned' },
  SLACK_SUGGESTED_PROMPTS: { schema: z.string(), default: '', fix: 'set SLACK_SUGGESTED_PROMPTS to prompts separated by |, e.g. "Summarise this thread|Draft a reply"' },
} satisfies Record<string, Variable>;

export interface SlackConfig {
  botToken: string;
  signingSecrets: string[];
  appToken?: string;
  apiUrl: string;
  path: string;
  streaming: boolean;
  threadFollowUps: boolean;
  suggestedPrompts: string[];
}

/** Slack's configuration from the environment, or undefined when Slack is not configured. */
export function slackConfigFromEnv(env: Record<string, string | undefined>): SlackConfig | undefined {
  const v = parseEnv(slackVariables, env);
  if (!v.SLACK_BOT_TOKEN && !v.SLACK_SIGNING_SECRET && !v.SLACK_APP_TOKEN) return undefined;
  return {
    botToken: v.SLACK_BOT_TOKEN ?? missing('SLACK_BOT_TOKEN'),
    signingSecrets: v.SLACK_SIGNING_SECRET ? splitList(v.SLACK_SIGNING_SECRET, ',') : v.SLACK_APP_TOKEN ? [] : missing('SLACK_SIGNING_SECRET'),
    appToken: v.SLACK_APP_TOKEN,
    apiUrl: v.SLACK_API_URL as string,
    path: v.SLACK_EVENTS_PATH as string,
    streaming: v.SLACK_STREAMING as boolean,
    threadFollowUps: v.SLACK_THREAD_FOLLOWUPS as boolean,
    suggestedPrompts: splitList(v.SLACK_SUGGESTED_PROMPTS ?? '', '|'),
  };
}

function splitList(value: string, separator: string): string[] {
  return value.split(separator).map((s) => s.trim()).filter(Boolean);
}

function missing(name: string): never {
  throw new ConfigError(`${name} is missing: Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode). Fix: set ${name}, or unset the other SLACK_ variables.`);
}
