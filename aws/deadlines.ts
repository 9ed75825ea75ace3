/**
 * Deadlines for parley's AWS calls. The SDK's HTTP handler has none by default: an endpoint that
 * accepts the connection and never answers holds a call (and the platform's request, or a CLI
 * command) forever. Each client parley makes gives every attempt a deadline, and the calls on
 * the ack path carry one for the whole call, retries included, so ingress can release the
 * delivery's claim and answer 503 within Slack's 3 s (its retry is then taken, not dropped).
 */
/** The request handler settings of a client: `requestTimeoutMs` per attempt (the SDK retries a timed-out one). */
export function requestHandler(requestTimeoutMs: number): { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean } {
  // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
  return { connectionTimeout: 1000, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true };
}

/** Per attempt, for calls a worker or a CLI command makes (DynamoDB and SQS answer in milliseconds). */
export const ATTEMPT_TIMEOUT_MS = 3000;

/** One whole call on the ack path, retries included: claim, enqueue and a release fit in Slack's 3 s. */
export const ACK_CALL_MS = 800;

/** CLI commands (`parley check`, `parley aws setup`): two tries of 1.5 s, so a silent endpoint fails in about 3 s. */
export const CLI_CLIENT = { maxAttempts: 2, requestHandler: requestHandler(1500) };

/** The options of a call that must end within `ms`, retries included (the request is aborted, not left running). */
export function within(ms: number, what: string): { abortSignal: AbortSignal } {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error(`${what}: no answer within ${ms} ms`)), ms).unref();
  return { abortSignal: controller.signal };
}
