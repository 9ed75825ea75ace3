/** The console's JSON API (/console/api/…, shapes in api.ts), once the request is signed in and its body is JSON. */
import type { HttpRequest, HttpResponse } from '../adapter.js';
import { json, jsonError } from '../http/responses.js';
import { wrongConsoleMethod } from './api-methods.js';
import { setBudgetLimit } from './budget-limit.js';
import { budgetQueryOf } from './budget-page.js';
import { conversations, transcript } from './conversations.js';
import { deadLetterAction } from './dead-letter-actions.js';
import { live } from './live.js';
import { badId, bodyOf, decoded } from './request-parts.js';
import type { ConsoleDeps } from './routes.js';
import { budgets, deadLetterPage, overview } from './views.js';

/** `stillSignedIn`: whether the request's session has neither expired nor been signed out (the live overview asks on each tick). */
export async function api(deps: ConsoleDeps, request: HttpRequest, path: string, post: boolean, stillSignedIn: () => Promise<boolean>): Promise<HttpResponse> {
  const query = request.url.searchParams;
  if (!post) {
    if (path === '/overview') return json(200, await overview(deps));
    if (path === '/events') return live(deps, stillSignedIn);
    if (path === '/budgets') return json(200, await budgets(deps, new Date(), budgetQueryOf(query)));
    if (path === '/alerts') return json(200, { alerts: await deps.alerts.recent(100) });
    if (path === '/dead-letters') return json(200, deadLetterPage(await deps.deadLetters.list(), query));
    if (path === '/conversations') return conversations(deps.conversationLog, query);
    if (path.startsWith('/conversations/')) {
      const id = decoded(path.slice('/conversations/'.length));
      if (id === undefined) return badId();
      return transcript(deps.conversationLog, id);
    }
  } else {
    if (path === '/budgets/limit') return setBudgetLimit(deps.limits, bodyOf(request));
    const action = await deadLetterAction(deps, request, path);
    if (action) return action;
  }
  return wrongConsoleMethod(path, post) ?? jsonError(404, 'not_found', `Nothing is served at /console/api${path}.`);
}
