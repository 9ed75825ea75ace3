/**
 * POST /web/feedback {conversation, exchange, rating: "good"|"bad", reason?}: a visitor's 👍/👎 on
 * an answer, the `exchange` its transcript entry carries. Stored with the exchange in the
 * conversation log and counted in parley_feedback_total{platform="web"} (AdapterContext.feedback).
 * The same access rules as the other routes: a visitor rates only answers of its own
 * conversations (any other is a 404, as is an exchange the conversation does not hold).
 */
import { HttpError, InvalidPayloadError, checkPayload, json, mediaTypeOf, type Route } from 'parley/adapter-kit';
import { resolveCaller } from './access.js';
import { checkAccess, type StateOf } from './api.js';
import { webFeedback } from './schema.js';

export function feedbackRoute(stateOf: StateOf): Route {
  return {
    method: 'POST',
    path: '/web/feedback',
    async handle(request) {
      const state = await stateOf();
      const caller = resolveCaller(request, state.access);
      // The same check as POST /web/messages: media types are case-insensitive.
      if (mediaTypeOf(request) !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'Send the feedback as application/json.');
      let body: unknown;
      try {
        body = JSON.parse(request.body.toString('utf8'));
      } catch {
        throw new InvalidPayloadError('The body is not valid JSON.', undefined, 400, 'malformed_body');
      }
      const { conversation, exchange, rating, reason } = checkPayload(webFeedback, body, 'The feedback (send {"conversation", "exchange", "rating": "good" or "bad", "reason"?})');
      await checkAccess(state, caller, conversation);
      const stored = await state.feedback({
        platform: 'web',
        conversation: { platform: 'web', id: conversation },
        exchange,
        rating,
        ...(reason?.trim() ? { reason } : {}),
        user: caller.kind === 'visitor' ? caller.visitor : conversation,
      });
      if (!stored) throw new HttpError(404, 'not_found', 'No such answer in this conversation.');
      return json(200, { rating });
    },
  };
}
