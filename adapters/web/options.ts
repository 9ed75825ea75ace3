/**
 * webChat()'s options checked by the rules of the variables they stand for (WEB_TOKEN 16+
 * characters, WEB_SESSION_SECRET 32+ each, WEB_ALLOWED_ORIGINS plain origins): a weak key given
 * in code is refused as it would be from the environment, never served on a public address.
 */
import { z } from 'zod';
import { parseOptions, variables } from 'parley';

interface CheckedOptions {
  token?: string;
  sessionSecret?: string | readonly string[];
  allowedOrigins?: string[];
}

/** A list given in code is the variable's comma-separated text. */
const asText = (value: unknown): unknown => (Array.isArray(value) ? value.join(',') : value);

const webChatOptions = z.looseObject({
  token: variables.WEB_TOKEN.schema.optional(),
  sessionSecret: z.preprocess(asText, variables.WEB_SESSION_SECRET.schema).optional(),
  allowedOrigins: z.preprocess(asText, variables.WEB_ALLOWED_ORIGINS.schema).optional(),
});

const hints = {
  token: 'pass token, a random secret of 16+ characters, e.g. from $(openssl rand -hex 24)',
  sessionSecret: 'pass sessionSecret, a random secret of 32+ characters (a list while rotating: the first signs, any verifies), e.g. from $(openssl rand -hex 32)',
  allowedOrigins: 'pass allowedOrigins as origins (scheme, host and port; no wildcard, user name or path), e.g. ["https://www.example.com"]',
};

/** The options as given, their origins normalised; a ConfigError names each bad one (never its value). */
export function checkWebChatOptions<O extends CheckedOptions>(given: O): O {
  // Empty is unset, as an empty variable is (webChat({ token: process.env.CHAT_TOKEN ?? '' })): left
  // out, so WEB_TOKEN / WEB_SESSION_SECRET still apply.
  const options: O = { ...given };
  if (options.token !== undefined && !String(options.token).trim()) delete options.token;
  if (options.sessionSecret !== undefined && !String(asText(options.sessionSecret)).replaceAll(',', '').trim()) delete options.sessionSecret;
  const { allowedOrigins } = parseOptions('webChat', webChatOptions, options, hints);
  return allowedOrigins === undefined ? options : { ...options, allowedOrigins };
}
