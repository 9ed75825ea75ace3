/**
 * Which method each console API path takes, so a known path asked with the other one is told so
 * (405 with `Allow`, as every other route answers a wrong method) rather than "nothing is served".
 */
import { jsonError } from '../http/responses.js';
import type { HttpResponse } from '../adapter.js';

const READS = /^\/(overview|events|budgets|alerts|dead-letters|conversations(\/[^/]+)?)$/;
const ACTIONS = /^\/(dead-letters\/([^/]+\/(replay|drop)|replay-all|purge)|budgets\/limit)$/;

/** The 405 for `path` (below /console/api) when it is served with the other method; undefined when it is served with none. */
export function wrongConsoleMethod(path: string, post: boolean): HttpResponse | undefined {
  // A path both patterns match (a dead letter with id "replay-all" or "purge" is read nowhere) takes POST.
  const allow = ACTIONS.test(path) ? 'POST' : READS.test(path) ? 'GET' : undefined;
  if (allow === undefined || (allow === 'POST') === post) return undefined;
  return jsonError(405, 'method_not_allowed', `Use ${allow} on this path.`, { allow });
}
