import { z } from 'zod';
import { collectEnv, ConfigError, parseEnv, parseOptions, schemas, type Variable } from 'parley';

/** What a customer writes when they want a person, unless INTERCOM_HANDOFF_PATTERNS says otherwise. */
export const DEFAULT_HANDOFF_PATTERNS = 'human, agent, real person, talk to someone, speak to someone, representative';

/** One client secret (an option's; INTERCOM_CLIENT_SECRET holds several, each checked so). */
const clientSecret = z.string().trim().min(8);

const numericId = (what: string) => z.string().trim().regex(/^\d+$/, `expected a numeric ${what} id`);

/** Intercom's variables; the adapter is on when the access token and the client secret are set. */
export const intercomVariables = {
  INTERCOM_ACCESS_TOKEN: { secret: true, schema: z.string().trim().min(8), fix: 'set INTERCOM_ACCESS_TOKEN to the Access Token from your app\'s "Authentication" page in the Intercom Developer Hub' },
  INTERCOM_CLIENT_SECRET: { secret: true, schema: schemas.secretList(8), fix: 'set INTERCOM_CLIENT_SECRET to the Client Secret from your app\'s "Basic Information" page (several, comma-separated, while rotating)' },
  INTERCOM_ADMIN_ID: { schema: numericId('admin'), fix: 'set INTERCOM_ADMIN_ID to the numeric id of the teammate the bot replies as, or unset it to use the token\'s own admin' },
  INTERCOM_API_URL: { schema: schemas.url, fix: 'set INTERCOM_API_URL to an Intercom API base (a proxy or a test fake), e.g. https://api.intercom.io, or unset it' },
  INTERCOM_REGION: { schema: z.string().trim().toLowerCase().pipe(z.enum(['us', 'eu', 'au'])), default: 'us', fix: 'set INTERCOM_REGION to the region your workspace is hosted in: us, eu or au' },
  INTERCOM_HANDOFF_TEAM_ID: { schema: numericId('team'), fix: 'set INTERCOM_HANDOFF_TEAM_ID to the numeric id of the team that takes over handed-off conversations, or unset it' },
  INTERCOM_HANDOFF_PATTERNS: { text: true, schema: z.string(), default: DEFAULT_HANDOFF_PATTERNS, fix: 'set INTERCOM_HANDOFF_PATTERNS to comma-separated words or phrases, e.g. "human, agent", or none to turn handoff requests off' },
  INTERCOM_WEBHOOK_PATH: { schema: z.string().startsWith('/'), default: '/intercom/webhook', fix: 'set INTERCOM_WEBHOOK_PATH to a path starting with /, e.g. /intercom/webhook' },
  INTERCOM_STOP_AFTER_HUMAN_REPLY: { schema: schemas.bool, default: 'on', fix: 'set INTERCOM_STOP_AFTER_HUMAN_REPLY=off to keep answering after a teammate has replied, or on' },
} satisfies Record<string, Variable>;

export type IntercomRegion = 'us' | 'eu' | 'au';

export interface IntercomConfig {
  accessToken: string;
  /** Webhook signing secrets, newest or oldest first: any one of them verifies. */
  clientSecrets: string[];
  /** The teammate the bot replies as; undefined → the token's own admin (`GET /me`) at start. */
  adminId?: string;
  /** Replaces the region's API base when set. */
  apiUrl?: string;
  region: IntercomRegion;
  handoffTeamId?: string;
  /** Lower-case words or phrases; empty turns handoff requests off. */
  handoffPatterns: string[];
  path: string;
  stopAfterHumanReply: boolean;
}

/**
 * Intercom's configuration from the environment, or undefined when Intercom is not configured. One
 * ConfigError names every problem: bad values and the missing half beside them.
 */
export function intercomConfigFromEnv(env: Record<string, string | undefined>): IntercomConfig | undefined {
  const { values: v, problems, invalid } = collectEnv(intercomVariables, env);
  // A bad value is set: its own line names it, never a "missing" one too.
  const set = (name: keyof typeof intercomVariables) => v[name] !== undefined || invalid.has(name);
  if (!set('INTERCOM_ACCESS_TOKEN') && !set('INTERCOM_CLIENT_SECRET')) return problems.length > 0 ? failWith(problems) : undefined;
  if (!set('INTERCOM_ACCESS_TOKEN')) problems.push(missing('INTERCOM_ACCESS_TOKEN'));
  const clientSecrets = splitList(v.INTERCOM_CLIENT_SECRET ?? '');
  // A list of commas only is no secret; a bad one has its own line.
  if (clientSecrets.length === 0 && !invalid.has('INTERCOM_CLIENT_SECRET')) problems.push(missing('INTERCOM_CLIENT_SECRET'));
  if (problems.length > 0) return failWith(problems);
  const accessToken = v.INTERCOM_ACCESS_TOKEN as string;
  const patterns = (v.INTERCOM_HANDOFF_PATTERNS as string).trim();
  return {
    accessToken,
    clientSecrets,
    adminId: v.INTERCOM_ADMIN_ID,
    apiUrl: v.INTERCOM_API_URL,
    region: v.INTERCOM_REGION as IntercomRegion,
    handoffTeamId: v.INTERCOM_HANDOFF_TEAM_ID,
    handoffPatterns: patterns.toLowerCase() === 'none' ? [] : splitList(patterns.toLowerCase()),
    path: v.INTERCOM_WEBHOOK_PATH as string,
    stopAfterHumanReply: v.INTERCOM_STOP_AFTER_HUMAN_REPLY as boolean,
  };
}

/**
 * intercomAdapter()'s options: the token and the client secrets; the rest defaults as the
 * INTERCOM_ variables do. `undefined` is left out (`exactOptionalPropertyTypes`).
 */
export type IntercomOptions = Pick<IntercomConfig, 'accessToken' | 'clientSecrets'> & { [K in Exclude<keyof IntercomConfig, 'accessToken' | 'clientSecrets'>]?: IntercomConfig[K] | undefined };

const intercomOptions = z.looseObject({
  accessToken: intercomVariables.INTERCOM_ACCESS_TOKEN.schema,
  clientSecrets: z.array(clientSecret).min(1, 'expected at least one client secret'),
  adminId: intercomVariables.INTERCOM_ADMIN_ID.schema.optional(),
  apiUrl: schemas.url.optional(),
  region: z.enum(['us', 'eu', 'au']).optional(),
  handoffTeamId: intercomVariables.INTERCOM_HANDOFF_TEAM_ID.schema.optional(),
  handoffPatterns: z.array(z.string()).optional(),
  path: intercomVariables.INTERCOM_WEBHOOK_PATH.schema.optional(),
  stopAfterHumanReply: z.boolean().optional(),
  // intercomAdapter()'s own (no variable): how long one API call may take.
  timeoutMs: z.number().int().positive().optional(),
});

const intercomHints = {
  accessToken: 'pass accessToken, the Access Token from your app\'s "Authentication" page in the Intercom Developer Hub',
  clientSecrets: 'pass clientSecrets: [the Client Secret from your app\'s "Basic Information" page] (several while rotating)',
  adminId: 'pass adminId, the numeric id of the teammate the bot replies as, or leave it out',
  apiUrl: 'pass apiUrl as an Intercom API base, e.g. https://api.intercom.io, or leave it out',
  region: 'pass region us, eu or au, or leave it out (us)',
  handoffTeamId: 'pass handoffTeamId, the numeric id of the team that takes over, or leave it out',
  path: 'pass path starting with /, e.g. /intercom/webhook, or leave it out',
  timeoutMs: 'pass timeoutMs as a whole number of milliseconds above 0, e.g. 15000, or leave it out',
};

/** The configuration from intercomAdapter()'s options, checked as the INTERCOM_ variables are; a ConfigError names a missing or bad one. */
export function intercomConfigFromOptions<O extends IntercomOptions>(options: O | undefined): O & IntercomConfig {
  const given = parseOptions('intercomAdapter', intercomOptions, options, intercomHints) as O & z.output<typeof intercomOptions>;
  const defaults = parseEnv(intercomVariables, {});
  return {
    ...given,
    region: given.region ?? (defaults.INTERCOM_REGION as IntercomRegion),
    handoffPatterns: (given.handoffPatterns ?? splitList(defaults.INTERCOM_HANDOFF_PATTERNS as string)).map((p) => p.trim().toLowerCase()).filter(Boolean),
    path: given.path ?? (defaults.INTERCOM_WEBHOOK_PATH as string),
    stopAfterHumanReply: given.stopAfterHumanReply ?? (defaults.INTERCOM_STOP_AFTER_HUMAN_REPLY as boolean),
  };
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function missing(name: string): string {
  return `${name} is missing: Intercom needs INTERCOM_ACCESS_TOKEN and INTERCOM_CLIENT_SECRET. Fix: set ${name}, or unset the other one to turn Intercom off.`;
}

function failWith(problems: string[]): never {
  throw new ConfigError(problems.join('\n'));
}
