/**
 * Whether a streamed answer's body carried the `data: [DONE]` that ends an OpenAI stream. The SDK
 * ends its iteration quietly both there and where the body merely stops (a proxy closing the
 * connection cleanly mid-answer), and tells the two apart to no one: the response is watched here.
 */
const ends = new WeakMap<Response, { done: boolean }>();
// A line may end in CR, LF or both (server-sent events allow each).
const DONE = /(?:^|[\r\n])data: ?\[DONE\]/;

/** `response`, its body watched for the end marker when it is an event stream. */
export function watchStreamEnd(response: Response): Response {
  if (!response.body || !/event-stream/i.test(response.headers.get('content-type') ?? '')) return response;
  const end = { done: false };
  const decoder = new TextDecoder();
  let tail = '';
  const watched = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, out) {
        if (!end.done) {
          // Kept short: the marker may be split between two reads.
          const text = tail + decoder.decode(bytes, { stream: true });
          end.done = DONE.test(text);
          tail = text.slice(-16);
        }
        out.enqueue(bytes);
      },
    }),
  );
  const wrapped = new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
  ends.set(wrapped, end);
  return wrapped;
}

/** Whether the stream's body said `[DONE]`; true for a response not watched (nothing to doubt). */
export function sawStreamEnd(response: Response): boolean {
  return ends.get(response)?.done ?? true;
}
