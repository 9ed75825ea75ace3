import { z } from 'zod';
import { collectEnv, ConfigError, optionError, parseEnv, parseOptions, schemas, type Variable } from 'parley';

/** A WhatsApp sender as Twilio writes it; a bare E.164 number gets the `whatsapp:` prefix. */
const whatsappNumber = z
  .string()
  .trim()
  .regex(/^(?:whatsapp:)?\+[1-9]\d{6,14}$/, 'expected a number like whatsapp:+14155238886')
  .transform((n) => (n.startsWith('whatsapp:') ? n : `whatsapp:${n}`));

/** One auth token (an option's; TWILIO_AUTH_TOKEN holds several, each checked so). */
const authToken = z.string().min(8);

/** Twilio's variables; the adapter is on when the account SID and the auth token are set. */
export const whatsappVariables = {
  TWILIO_ACCOUNT_SID: { schema: z.string().trim().regex(/^AC[0-9a-fA-F]{32}$/, 'expected an Account SID: AC followed by 32 hex digits'), fix: 'set TWILIO_ACCOUNT_SID to the Account SID (AC…) shown on your Twilio Console dashboard' },
  TWILIO_AUTH_TOKEN: { secret: true, schema: schemas.secretList(8), fix: 'set TWILIO_AUTH_TOKEN to the Auth Token from your Twilio Console dashboard (several, comma-separated, while rotating; the first is used to send)' },
  TWILIO_WHATSAPP_FROM: { schema: whatsappNumber, fix: 'set TWILIO_WHATSAPP_FROM to your WhatsApp sender, e.g. whatsapp:+14155238886 (the sandbox number)' },
  TWILIO_MESSAGING_SERVICE_SID: { schema: z.string().trim().regex(/^MG[0-9a-fA-F]{32}$/, 'expected a Messaging Service SID: MG followed by 32 hex digits'), fix: 'set TWILIO_MESSAGING_SERVICE_SID to a Messaging Service (MG…) with a WhatsApp sender, or unset it' },
  TWILIO_API_URL: { schema: schemas.url, default: 'https://api.twilio.com', fix: 'set TWILIO_API_URL to the base URL replacing https://api.twilio.com (a proxy or a local fake), or unset it' },
  TWILIO_WHATSAPP_PATH: { schema: z.string().startsWith('/'), default: '/twilio/whatsapp', fix: 'set TWILIO_WHATSAPP_PATH to a path starting with /, e.g. /twilio/whatsapp' },
} satisfies Record<string, Variable>;

export interface WhatsAppConfig {
  accountSid: string;
  /** Every token a webhook may be signed with (rotation); the first also authenticates sends. */
  authTokens: string[];
  /**
   * The sender (`whatsapp:+…`) of a reply to a job that names no number written to; other replies
   * go from the number the person wrote to (send.ts's replySender). With a Messaging Service SID as
   * well, Twilio uses both.
   */
  from?: string;
  messagingServiceSid?: string;
  /** Base URL standing in for https://api.twilio.com. */
  apiUrl: string;
  path: string;
}

/**
 * WhatsApp's configuration from the environment, or undefined when Twilio is not configured. One
 * ConfigError names every problem: bad values and the checks across variables beside them.
 */
export function whatsappConfigFromEnv(env: Record<string, string | undefined>): WhatsAppConfig | undefined {
  const { values: v, problems, invalid } = collectEnv(whatsappVariables, env);
  // A bad value is set: its own line names it, never a "missing" one too.
  const set = (name: keyof typeof whatsappVariables) => v[name] !== undefined || invalid.has(name);
  if (!set('TWILIO_ACCOUNT_SID') && !set('TWILIO_AUTH_TOKEN')) return problems.length > 0 ? failWith(problems) : undefined;
  if (!set('TWILIO_ACCOUNT_SID')) problems.push('TWILIO_ACCOUNT_SID is missing: TWILIO_AUTH_TOKEN is set, but Twilio also needs the Account SID (AC…). Fix: set TWILIO_ACCOUNT_SID, or unset TWILIO_AUTH_TOKEN.');
  if (!set('TWILIO_AUTH_TOKEN')) problems.push('TWILIO_AUTH_TOKEN is missing: TWILIO_ACCOUNT_SID is set, but webhooks cannot be verified without the Auth Token. Fix: set TWILIO_AUTH_TOKEN, or unset TWILIO_ACCOUNT_SID.');
  // Trimmed, each 8+ characters, none empty: secretList checked them one by one.
  const authTokens = v.TWILIO_AUTH_TOKEN ? v.TWILIO_AUTH_TOKEN.split(',') : [];
  if (!set('TWILIO_WHATSAPP_FROM') && !set('TWILIO_MESSAGING_SERVICE_SID')) {
    problems.push('TWILIO_WHATSAPP_FROM is missing: replies need a sender. Fix: set TWILIO_WHATSAPP_FROM (e.g. whatsapp:+14155238886, the sandbox number) or TWILIO_MESSAGING_SERVICE_SID (MG…).');
  }
  if (problems.length > 0) return failWith(problems);
  return {
    accountSid: v.TWILIO_ACCOUNT_SID as string,
    authTokens,
    ...(v.TWILIO_WHATSAPP_FROM ? { from: v.TWILIO_WHATSAPP_FROM } : {}),
    ...(v.TWILIO_MESSAGING_SERVICE_SID ? { messagingServiceSid: v.TWILIO_MESSAGING_SERVICE_SID } : {}),
    apiUrl: v.TWILIO_API_URL as string,
    path: v.TWILIO_WHATSAPP_PATH as string,
  };
}

/**
 * whatsappAdapter()'s options: the account, its tokens and a sender; the rest defaults as the
 * TWILIO_ variables do. `undefined` is left out (`exactOptionalPropertyTypes`).
 */
export type WhatsAppOptions = Pick<WhatsAppConfig, 'accountSid' | 'authTokens'> & { [K in 'from' | 'messagingServiceSid' | 'apiUrl' | 'path']?: WhatsAppConfig[K] | undefined };

const whatsappOptions = z.looseObject({
  accountSid: whatsappVariables.TWILIO_ACCOUNT_SID.schema,
  authTokens: z.array(authToken).min(1, 'expected at least one auth token'),
  from: whatsappVariables.TWILIO_WHATSAPP_FROM.schema.optional(),
  messagingServiceSid: whatsappVariables.TWILIO_MESSAGING_SERVICE_SID.schema.optional(),
  apiUrl: schemas.url.optional(),
  path: whatsappVariables.TWILIO_WHATSAPP_PATH.schema.optional(),
});

const whatsappHints = {
  accountSid: 'pass accountSid, the Account SID (AC…) shown on your Twilio Console dashboard',
  authTokens: 'pass authTokens: [the Auth Token from your Twilio Console dashboard] (several while rotating; the first is used to send)',
  from: 'pass from, your WhatsApp sender, e.g. whatsapp:+14155238886 (the sandbox number)',
  messagingServiceSid: 'pass messagingServiceSid, a Messaging Service (MG…) with a WhatsApp sender, or leave it out',
  apiUrl: 'pass apiUrl as the base URL replacing https://api.twilio.com, or leave it out',
  path: 'pass path starting with /, e.g. /twilio/whatsapp, or leave it out',
};

/** The configuration from whatsappAdapter()'s options, checked as the TWILIO_ variables are; a ConfigError names a missing or bad one. */
export function whatsappConfigFromOptions<O extends WhatsAppOptions>(options: O | undefined): O & WhatsAppConfig {
  const given = parseOptions('whatsappAdapter', whatsappOptions, options, whatsappHints) as O & z.output<typeof whatsappOptions>;
  if (!given.from && !given.messagingServiceSid) throw optionError('whatsappAdapter', `option from is missing: replies need a sender. Fix: ${whatsappHints.from}, or messagingServiceSid (MG…).`);
  const defaults = parseEnv(whatsappVariables, {});
  return { ...given, apiUrl: given.apiUrl ?? (defaults.TWILIO_API_URL as string), path: given.path ?? (defaults.TWILIO_WHATSAPP_PATH as string) };
}

function failWith(problems: string[]): never {
  throw new ConfigError(problems.join('\n'));
}
