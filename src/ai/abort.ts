/**
 * Passing one signal's abort on to a controller, instead of AbortSignal.any(): Node 20 keeps a
 * composite signal that has ever had an 'abort' listener (the OpenAI SDK adds one per request and
 * never removes it) for the life of the process, aborted or not.
 */

/** Abort `to` when `from` aborts (at once if it has), with its reason; returns the undo. */
export function forwardAbort(from: AbortSignal, to: AbortController): () => void {
  if (from.aborted) {
    to.abort(from.reason);
    return () => undefined;
  }
  const onAbort = () => to.abort(from.reason);
  from.addEventListener('abort', onAbort, { once: true });
  return () => from.removeEventListener('abort', onAbort);
}
