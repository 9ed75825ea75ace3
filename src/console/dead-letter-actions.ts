/** The console's actions on the dead letters (POST /console/api/dead-letters/…): replay or drop one, replay all, purge. */
import type { HttpRequest, HttpResponse } from '../adapter.js';
import { json, jsonError } from '../http/responses.js';
import { badId, bodyOf, decoded } from './request-parts.js';
import type { ConsoleDeps } from './routes.js';

/** The answer to the action at `path` (below /console/api); undefined when `path` is none of them. */
export async function deadLetterAction(deps: ConsoleDeps, request: HttpRequest, path: string): Promise<HttpResponse | undefined> {
  const replay = path.match(/^\/dead-letters\/([^/]+)\/replay$/);
  if (replay) {
    const id = decoded(replay[1]!);
    if (id === undefined) return badId();
    const replayed = await deps.deadLetters.replay(id);
    if (replayed === 'not_a_job') return jsonError(409, 'not_a_job', `Dead letter ${id} is not a parley job: replayed, it would only fail again. Read it, then drop it (Drop, or parley dlq drop ${id}).`);
    if (!replayed) return jsonError(404, 'not_found', `No dead letter ${id}.`);
    deps.logger.info({ deadLetter: id }, 'dead letter replayed from the console');
    return json(200, { replayed: true });
  }
  const drop = path.match(/^\/dead-letters\/([^/]+)\/drop$/);
  if (drop) {
    const id = decoded(drop[1]!);
    if (id === undefined) return badId();
    return dropOne(deps, request, id);
  }
  if (path === '/dead-letters/replay-all') {
    const replayed = await deps.deadLetters.replayAll();
    deps.logger.info({ replayed }, 'dead letters replayed from the console');
    return json(200, { replayed });
  }
  if (path === '/dead-letters/purge') {
    if (bodyOf(request)?.confirm !== 'purge') return jsonError(400, 'confirmation_required', 'Purging drops every dead letter for good: send {"confirm":"purge"}.');
    const purged = await deps.deadLetters.purge();
    deps.logger.warn({ purged }, 'dead letters purged from the console');
    return json(200, { purged });
  }
  return undefined;
}

/** One letter removed for good, unreplayed (one that can never run): confirmed as purge is, since it cannot be undone. */
async function dropOne(deps: ConsoleDeps, request: HttpRequest, id: string): Promise<HttpResponse> {
  if (bodyOf(request)?.confirm !== 'drop') return jsonError(400, 'confirmation_required', `Dropping deletes dead letter ${id} for good: send {"confirm":"drop"}.`);
  // A queue of one's own may lack it (dropDeadLetter is optional on JobQueue): say so, not "no such letter".
  if (!deps.deadLetters.drop) return jsonError(501, 'drop_unsupported', 'This queue cannot drop one dead letter (its JobQueue has no dropDeadLetter): replay it, or purge them all.');
  if (!(await deps.deadLetters.drop(id))) return jsonError(404, 'not_found', `No dead letter ${id}.`);
  // The id only: the letter's message is what people wrote (debug level at most).
  deps.logger.warn({ deadLetter: id }, 'dead letter dropped from the console');
  return json(200, { dropped: true });
}
