/**
 * The options of every Web API client parley makes: one try per call, 429s handed back, a bounded
 * wait, and a fetch (leanFetch) that fails an answer that is not the Web API's JSON (a proxy's
 * login page) as a request error saying what came. The SDK would report such a body as Slack's
 * `{ ok: false }` with the whole page as its error code, which is logged (a start's auth.test, an
 * OAuth exchange) and kept as a dead letter's reason.
 */
import type { Logger as SdkLogger } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import { leanFetch } from 'parley/adapter-kit';

/** One Web API call may take this long before it counts as failed (and is retried by the queue). */
export const API_TIMEOUT_MS = 15_000;

/** The code of the failure slackFetch throws for a 2xx that is not JSON (the SDK keeps it as its error's `original`). */
export const NOT_SLACK_JSON = 'PARLEY_NOT_SLACK_JSON';

/** Every Web API client parley makes; its lines in `logger` (sdk-logger.ts). */
export function webClientOptions(slackApiUrl: string, logger?: SdkLogger): WebClientOptions {
  return { slackApiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: API_TIMEOUT_MS, fetch: slackFetchFor(slackApiUrl), ...(logger ? { logger } : {}) };
}

/**
 * leanFetch; a 2xx from a Web API method (under `slackApiUrl`) whose body is not JSON fails, told
 * without its body. Other URLs are not the Web API's: files.uploadV2 posts the file to the upload
 * URL Slack gives (files.slack.com), which answers plain text ("OK - 123").
 */
export function slackFetchFor(slackApiUrl: string): typeof fetch {
  const api = slackApiUrl.endsWith('/') ? slackApiUrl : `${slackApiUrl}/`;
  return async (input, init) => {
    const response = await leanFetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(api)) return response;
    const type = response.headers.get('content-type') ?? '';
    // Slack's own gzip answer (admin.analytics.getFile) aside; a 204 has no body to read.
    if (response.status < 200 || response.status > 299 || response.status === 204 || /json|gzip/i.test(type)) return response;
    const text = await response.clone().text();
    // JSON labelled otherwise (a fake, a gateway): read by the SDK as it always was.
    if (isJsonObject(text)) return response;
    const what = text.trim() === '' ? 'an empty body' : `${/^\s*</.test(text) ? 'an HTML page' : `${type.split(';')[0] || 'a body'} that is not JSON`} (${text.length} characters)`;
    throw Object.assign(new Error(`Slack answered ${response.status} with ${what}, not the Web API's JSON`), { code: NOT_SLACK_JSON });
  };
}

function isJsonObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object';
  } catch {
    return false;
  }
}
