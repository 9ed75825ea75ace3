/**
 * webChat()'s options checked by the rules of the variables they stand for (WEB_TOKEN 16+
 * characters, WEB_SESSION_SECRET 32+ each, WEB_ALLOWED_ORIGINS plain origins): a weak key given
 * in code is refused as it would be from the environment, never served on a public address.
 */
import { ConfigError, variables } from 'parley';

interface CheckedOptions {
  token?: string;
  sessionSecret?: string | readonly string[];
  allowedOrigins?: string[];
}

/** The options as given, their origins normalised; a ConfigError names each bad one (never its value). */
export function checkWebChatOptions<O extends CheckedOptions>(options: O): O {
  const problems: string[] = [];
  const check = (option: string, name: 'WEB_TOKEN' | 'WEB_SESSION_SECRET' | 'WEB_ALLOWED_ORIGINS', given: string, fix: string) => {
    const parsed = variables[name].schema.safeParse(given);
    if (!parsed.success) problems.push(`webChat: option ${option} is invalid: ${parsed.error.issues.map((issue) => issue.message.replace(/^Invalid input: /, '')).join('; ')}. Fix: ${fix}.`);
    return parsed.success ? parsed.data : undefined;
  };
  const { token, sessionSecret, allowedOrigins } = options;
  // Empty is unset, as an empty variable is: webChat({ token: process.env.CHAT_TOKEN ?? '' }).
  if (token !== undefined && String(token).trim()) check('token', 'WEB_TOKEN', String(token), 'pass token, a random secret of 16+ characters, e.g. from $(openssl rand -hex 24)');
  const joined = sessionSecret === undefined ? '' : typeof sessionSecret === 'string' ? sessionSecret : [...sessionSecret].join(',');
  if (joined.replaceAll(',', '').trim()) {
    check('sessionSecret', 'WEB_SESSION_SECRET', joined, 'pass sessionSecret, a random secret of 32+ characters (a list while rotating: the first signs, any verifies), e.g. from $(openssl rand -hex 32)');
  }
  let origins: string[] | undefined;
  if (allowedOrigins !== undefined) {
    origins = check('allowedOrigins', 'WEB_ALLOWED_ORIGINS', Array.isArray(allowedOrigins) ? allowedOrigins.join(',') : String(allowedOrigins), 'pass allowedOrigins as origins (scheme, host and port; no wildcard, user name or path), e.g. ["https://www.example.com"]') as string[] | undefined;
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  // An empty key is left out, so WEB_TOKEN / WEB_SESSION_SECRET still apply, as with no option.
  const checked: O = { ...options, ...(origins ? { allowedOrigins: origins } : {}) };
  if (token !== undefined && !String(token).trim()) delete checked.token;
  if (sessionSecret !== undefined && !joined.replaceAll(',', '').trim()) delete checked.sessionSecret;
  return checked;
}
