import { z } from 'zod';
import { collectEnv, ConfigError, optionError, parseEnv, parseOptions, schemas, type Variable } from 'parley';
import { parseInstallationKeys } from './installation-crypto.js';

/** assistant.threads.setSuggestedPrompts takes up to four prompts: Slack refuses the call with more, and the thread gets none. */
export const MAX_SUGGESTED_PROMPTS = 4;

/** One signing secret (an option's; SLACK_SIGNING_SECRET holds several, each checked so). */
const signingSecret = z.string().trim().min(8);

/** The bot scopes parley's features need (the manifest's list in the README): what /slack/install asks for by default. */
export const DEFAULT_SLACK_SCOPES = 'app_mentions:read,assistant:write,channels:history,chat:write,commands,groups:history,im:history,mpim:history';

/**
 * Slack's variables. The adapter is on with the signing secret (or an app token) plus either the bot
 * token (one workspace) or the OAuth client id, secret and state secret (many workspaces).
 */
export const slackVariables = {
  // Secrets are trimmed: one from a file (`echo tok > f`, a Kubernetes --from-file secret) ends in a
  // newline that would otherwise pass and break every call (an HTTP header refuses it).
  SLACK_BOT_TOKEN: {
    secret: true,
    schema: z
      .string()
      .trim()
      // Token rotation's tokens expire after 12 hours, and a fixed setting cannot be refreshed.
      .refine((token) => !token.startsWith('xoxe.'), 'a rotating token (xoxe.xoxb-…) expires after 12 hours and cannot be refreshed from a setting: turn token rotation off, or install through OAuth (SLACK_CLIENT_ID), where parley refreshes it')
      .regex(/^(xoxe\.)?xox[bp]-/, 'expected a bot token starting with xoxb-'),
    fix: 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from your app\'s "OAuth & Permissions" page' },
  SLACK_SIGNING_SECRET: { secret: true, schema: schemas.secretList(8), fix: 'set SLACK_SIGNING_SECRET to the Signing Secret from your app\'s "Basic Information" page (several, comma-separated, while rotating)' },
  SLACK_APP_TOKEN: { secret: true, schema: z.string().trim().regex(/^xapp-/, 'expected an app-level token starting with xapp-'), fix: 'set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write to use Socket Mode, or unset it' },
  SLACK_API_URL: { schema: schemas.url, default: 'https://slack.com/api/', fix: 'set SLACK_API_URL to the Web API base, e.g. https://slack.com/api/' },
  SLACK_EVENTS_PATH: { schema: z.string().startsWith('/'), default: '/slack/events', fix: 'set SLACK_EVENTS_PATH to a path starting with /, e.g. /slack/events' },
  SLACK_STREAMING: { schema: schemas.bool, default: 'off', fix: 'set SLACK_STREAMING=on to stream replies as they are generated, or off' },
  SLACK_THREAD_FOLLOWUPS: { schema: schemas.bool, default: 'on', fix: 'set SLACK_THREAD_FOLLOWUPS=off to answer in threads only when mentioned' },
  SLACK_SUGGESTED_PROMPTS: {
    text: true,
    schema: z.string().refine((value) => splitList(value, '|').length <= MAX_SUGGESTED_PROMPTS, `expected at most ${MAX_SUGGESTED_PROMPTS} prompts (Slack takes up to four a thread)`),
    default: '',
    fix: 'set SLACK_SUGGESTED_PROMPTS to up to four prompts separated by |, e.g. "Summarise this thread|Draft a reply"',
  },
  SLACK_CLIENT_ID: { schema: z.string().trim().min(1), fix: 'set SLACK_CLIENT_ID to the Client ID from your app\'s "Basic Information" page' },
  SLACK_CLIENT_SECRET: { secret: true, schema: z.string().trim().min(8), fix: 'set SLACK_CLIENT_SECRET to the Client Secret from your app\'s "Basic Information" page' },
  SLACK_STATE_SECRET: { secret: true, schema: z.string().trim().min(32, 'expected at least 32 characters'), fix: 'set SLACK_STATE_SECRET to a long random string (e.g. $(openssl rand -hex 32)), the same in every process' },
  SLACK_INSTALLATION_KEY: {
    secret: true,
    schema: z.string().transform((value, ctx) => {
      try {
        return parseInstallationKeys(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    fix: 'set SLACK_INSTALLATION_KEY to base64 of 32 random bytes (e.g. $(openssl rand -base64 32)); while rotating, the new key first, then the old, comma-separated',
  },
  SLACK_SCOPES: { schema: z.string().regex(/^[\w:.-]+(,\s*[\w:.-]+)*$/, 'expected comma-separated scopes'), default: DEFAULT_SLACK_SCOPES, fix: 'set SLACK_SCOPES to the bot scopes to ask for, comma-separated, e.g. app_mentions:read,chat:write' },
  SLACK_ORG_INSTALLS_WITHOUT_STATE: {
    schema: schemas.bool,
    default: 'off',
    fix: 'set SLACK_ORG_INSTALLS_WITHOUT_STATE=on to accept org-wide installs an Enterprise Grid admin starts from the org\'s app management page (Slack sends them back with no state), or off',
  },
  SLACK_DIRECT_INSTALL: {
    schema: schemas.bool,
    default: 'off',
    fix: 'set SLACK_DIRECT_INSTALL=on to have /slack/install send the browser straight to Slack\'s authorize page (the Slack Marketplace\'s "Direct Install URL"), or off for the "Add to Slack" page',
  },
  SLACK_REDIRECT_URI: { schema: schemas.url, fix: 'set SLACK_REDIRECT_URI to the public URL of /slack/oauth_redirect, as listed under "OAuth & Permissions → Redirect URLs"' },
} satisfies Record<string, Variable>;

export interface SlackConfig {
  /** One workspace: its bot token. Absent when the app is installed through OAuth (`oauth`). */
  botToken?: string;
  /** Many workspaces: the OAuth install flow, and installations stored encrypted. */
  oauth?: SlackOAuthConfig;
  signingSecrets: string[];
  appToken?: string;
  apiUrl: string;
  path: string;
  streaming: boolean;
  threadFollowUps: boolean;
  suggestedPrompts: string[];
}

/**
 * Slack's configuration from the environment, or undefined when Slack is not configured. One
 * ConfigError names every problem: bad values and the checks across variables beside them.
 */
export function slackConfigFromEnv(env: Record<string, string | undefined>): SlackConfig | undefined {
  const { values: v, problems, invalid } = collectEnv(slackVariables, env);
  // A bad value is set: its own line names it, never a "missing" one too.
  const set = (name: SlackVariable) => v[name] !== undefined || invalid.has(name);
  const oauthGiven = set('SLACK_CLIENT_ID') || set('SLACK_CLIENT_SECRET') || set('SLACK_STATE_SECRET');
  if (!set('SLACK_BOT_TOKEN') && !set('SLACK_SIGNING_SECRET') && !set('SLACK_APP_TOKEN') && !oauthGiven) return problems.length > 0 ? failWith(problems) : undefined;
  if (oauthGiven) problems.push(...oauthProblems(set));
  else if (!set('SLACK_BOT_TOKEN')) problems.push(missing('SLACK_BOT_TOKEN'));
  if (!set('SLACK_SIGNING_SECRET') && !set('SLACK_APP_TOKEN')) problems.push(missing('SLACK_SIGNING_SECRET'));
  if (problems.length > 0) return failWith(problems);
  const oauth = oauthGiven ? oauthConfig(v, env.PUBLIC_URL) : undefined;
  return {
    botToken: v.SLACK_BOT_TOKEN,
    ...(oauth ? { oauth } : {}),
    signingSecrets: v.SLACK_SIGNING_SECRET ? splitList(v.SLACK_SIGNING_SECRET, ',') : [],
    appToken: v.SLACK_APP_TOKEN,
    apiUrl: v.SLACK_API_URL as string,
    path: v.SLACK_EVENTS_PATH as string,
    streaming: v.SLACK_STREAMING as boolean,
    threadFollowUps: v.SLACK_THREAD_FOLLOWUPS as boolean,
    suggestedPrompts: splitList(v.SLACK_SUGGESTED_PROMPTS ?? '', '|'),
  };
}

type SlackVariable = keyof typeof slackVariables;

type Unset<T> = { [K in keyof T]?: T[K] | undefined };

/**
 * slackAdapter()'s options: the tokens and secrets; the rest defaults as the SLACK_ variables do.
 * `undefined` is left out (`apiUrl: process.env.SLACK_API_URL` under `exactOptionalPropertyTypes`).
 */
export interface SlackOptions extends Unset<SlackConfig> {
  /** One signing secret, as Bolt spells it (`signingSecrets` holds several while rotating). */
  signingSecret?: string | undefined;
}

const slackOptions = z.looseObject({
  botToken: slackVariables.SLACK_BOT_TOKEN.schema.optional(),
  signingSecret: signingSecret.optional(),
  signingSecrets: z.array(signingSecret).optional(),
  appToken: slackVariables.SLACK_APP_TOKEN.schema.optional(),
  apiUrl: schemas.url.optional(),
  path: slackVariables.SLACK_EVENTS_PATH.schema.optional(),
  streaming: z.boolean().optional(),
  threadFollowUps: z.boolean().optional(),
  suggestedPrompts: z.array(z.string()).max(MAX_SUGGESTED_PROMPTS).optional(),
  oauth: z
    .looseObject({ clientId: z.string().min(1), clientSecret: z.string().min(8), stateSecret: z.string().min(32), installationKeys: z.array(z.instanceof(Buffer)).min(1), scopes: z.array(z.string()), orgInstallsWithoutState: z.boolean().optional(), directInstall: z.boolean().optional() })
    .optional(),
});

const slackHints = {
  botToken: 'pass botToken, the Bot User OAuth Token (xoxb-…) from your app\'s "OAuth & Permissions" page, or oauth (many workspaces)',
  signingSecret: 'pass signingSecret (or signingSecrets, several while rotating), the Signing Secret from your app\'s "Basic Information" page',
  signingSecrets: 'pass signingSecrets: [the Signing Secret from your app\'s "Basic Information" page], or signingSecret',
  appToken: 'pass appToken, an app-level token (xapp-…) with connections:write, or leave it out',
  apiUrl: 'pass apiUrl as the Web API base, e.g. https://slack.com/api/, or leave it out',
  path: 'pass path starting with /, e.g. /slack/events, or leave it out',
  suggestedPrompts: 'pass suggestedPrompts as up to four prompts (Slack takes no more), or leave it out',
  oauth: 'pass oauth as slackConfigFromEnv builds it (clientId, clientSecret, stateSecret, installationKeys, scopes), or botToken',
};

/**
 * The configuration from slackAdapter()'s options: checked as the SLACK_ variables are, with their
 * defaults. Throws a ConfigError naming a missing or bad option.
 */
export function slackConfigFromOptions<O extends SlackOptions>(options: O | undefined): Omit<O, 'signingSecret'> & SlackConfig {
  const { signingSecret, ...given } = parseOptions('slackAdapter', slackOptions, options, slackHints) as O & z.output<typeof slackOptions>;
  const defaults = parseEnv(slackVariables, {});
  const many = given.oauth !== undefined || (given as { installations?: unknown }).installations !== undefined;
  if (!given.botToken && !many) throw optionError('slackAdapter', `option botToken is missing. Fix: ${slackHints.botToken}.`);
  const signingSecrets = [...(given.signingSecrets ?? []), ...(signingSecret ? [signingSecret] : [])];
  if (signingSecrets.length === 0 && !given.appToken) {
    throw optionError('slackAdapter', `option signingSecret is missing: without it no request can be verified. Fix: ${slackHints.signingSecret}, or appToken for Socket Mode.`);
  }
  return {
    ...given,
    signingSecrets,
    apiUrl: given.apiUrl ?? (defaults.SLACK_API_URL as string),
    path: given.path ?? (defaults.SLACK_EVENTS_PATH as string),
    streaming: given.streaming ?? (defaults.SLACK_STREAMING as boolean),
    threadFollowUps: given.threadFollowUps ?? (defaults.SLACK_THREAD_FOLLOWUPS as boolean),
    suggestedPrompts: given.suggestedPrompts ?? splitList(defaults.SLACK_SUGGESTED_PROMPTS ?? '', '|'),
  };
}

export interface SlackOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Signs the OAuth `state` (and its cookie). */
  stateSecret: string;
  /** SLACK_INSTALLATION_KEY: the first encrypts installations, every one decrypts. */
  installationKeys: Buffer[];
  /** Bot scopes /slack/install asks for. */
  scopes: string[];
  /**
   * SLACK_ORG_INSTALLS_WITHOUT_STATE: a redirect with no `state` at all is taken when its code turns out to
   * be an org-wide install (an Enterprise Grid admin installing from the org's app management page, where
   * Slack starts the flow and sends none, as Bolt's `stateVerification: false` allows). Off: refused.
   */
  orgInstallsWithoutState?: boolean;
  /** SLACK_DIRECT_INSTALL: /slack/install redirects to Slack's authorize URL (state cookie set) instead of showing its page, as Bolt's `directInstall`. */
  directInstall?: boolean;
  /** Where Slack sends the browser back (SLACK_REDIRECT_URI, else PUBLIC_URL + /slack/oauth_redirect); absent: none is sent, and Slack uses the app's registered redirect URL. */
  redirectUri?: string;
}

/** What is wrong with the OAuth settings (many workspaces): the variables missing, and a bot token beside them. */
function oauthProblems(set: (name: SlackVariable) => boolean): string[] {
  const problems: string[] = [];
  const needed = (['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'SLACK_INSTALLATION_KEY'] as const).filter((name) => !set(name));
  if (needed.length > 0) {
    problems.push(
      `${needed.join(', ')} ${needed.length === 1 ? 'is' : 'are'} missing: installing the Slack app in many workspaces (OAuth) needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and SLACK_INSTALLATION_KEY (base64 of 32 bytes, e.g. $(openssl rand -base64 32)). Fix: set ${needed.join(' and ')}, or unset SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET to serve one workspace with SLACK_BOT_TOKEN.`,
    );
  }
  if (set('SLACK_BOT_TOKEN')) {
    problems.push(
      'SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: Slack serves either one workspace with SLACK_BOT_TOKEN or many installed through OAuth (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET). Fix: unset SLACK_BOT_TOKEN and install the app in that workspace at /slack/install, or unset the SLACK_CLIENT_ variables and SLACK_STATE_SECRET.',
    );
  }
  return problems;
}

/** The OAuth settings, once oauthProblems found none. */
function oauthConfig(v: ReturnType<typeof collectEnv<typeof slackVariables>>['values'], publicUrl: string | undefined): SlackOAuthConfig {
  const base = publicUrl?.trim().replace(/\/+$/, '');
  return {
    clientId: v.SLACK_CLIENT_ID as string,
    clientSecret: v.SLACK_CLIENT_SECRET as string,
    stateSecret: v.SLACK_STATE_SECRET as string,
    installationKeys: v.SLACK_INSTALLATION_KEY as Buffer[],
    scopes: splitList(v.SLACK_SCOPES ?? DEFAULT_SLACK_SCOPES, ','),
    orgInstallsWithoutState: v.SLACK_ORG_INSTALLS_WITHOUT_STATE as boolean,
    directInstall: v.SLACK_DIRECT_INSTALL as boolean,
    redirectUri: v.SLACK_REDIRECT_URI ?? (base ? `${base}/slack/oauth_redirect` : undefined),
  };
}

function splitList(value: string, separator: string): string[] {
  return value.split(separator).map((s) => s.trim()).filter(Boolean);
}

function missing(name: string): string {
  return `${name} is missing: Slack needs SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode) and either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and SLACK_INSTALLATION_KEY (many workspaces, OAuth). Fix: set ${name}, or unset the other SLACK_ variables.`;
}

function failWith(problems: string[]): never {
  throw new ConfigError(problems.join('\n'));
}
