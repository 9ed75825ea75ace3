/** Why a backend's ping failed, in the words `/readyz` and the console both use. */
import { hideSecrets } from '../secret-values.js';
import { FAIL_FAST_COMMAND_TIMEOUT_MS, notConnectedWords } from './redis-not-connected.js';

/** ioredis's words for a fail-fast connection's two ways of saying Redis is not there, said plainly; any other reason with its secrets hidden. */
export function downReason(message: string): string {
  if (message === 'Command timed out') return `no answer within ${FAIL_FAST_COMMAND_TIMEOUT_MS} ms`;
  const notConnected = notConnectedWords(message);
  if (notConnected) return `${notConnected} (it refused the connection; reconnecting)`;
  return hideSecrets(message);
}
