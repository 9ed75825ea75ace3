import { pino, type Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Secrets never reach a log line;
 * the signature headers are redacted too since they let a reader replay a request.
 */
export const redactPaths = [
  'authorization',
  'token',
  'apiKey',
  'secret',
  '*.authorization',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.password',
  'headers.authorization',
  'headers.cookie',
  'headers["x-slack-signature"]',
  'headers["x-twilio-signature"]',
  'headers["x-hub-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  // HTTP clients' errors (axios) carry the request's credentials.
  '*.headers.Authorization',
  'err.config.headers.Authorization',
  'err.config.auth',
];

/** The parley logger: JSON lines on stdout, secrets redacted. */
export function createLogger(level = 'info'): Logger {
  return pino({ name: 'parley', level, redact: { paths: redactPaths, censor: '[redacted]' } });
}

export type { Logger };
