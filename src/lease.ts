/**
 * Posting only while the queue holds the job. A queue that can lose its hold on a running job (SQS
 * polling: renewals of the message's visibility failing until it runs out) hands it to another
 * worker meanwhile; two runs posting at once would both pass the reply markers. So from then on
 * every post of this run is refused (LeaseLostError): what it posted before is on record, and the
 * other run posts the rest. BullMQ's "lock lost", for the replies.
 */
import type { Adapter } from './adapter.js';
import { LeaseLostError } from './errors.js';
import type { Job } from './queue/index.js';
import type { WorkerDeps } from './worker.js';

export { LeaseLostError };

/** The adapter calls that show something to the user. */
const POSTS = new Set<PropertyKey>(['sendPart', 'send', 'stream']);

/** The worker's deps for `job`: its adapters refuse to post once the queue no longer holds it (as they are when it cannot lose it). */
export function postingWhileHeld(deps: WorkerDeps, job: Pick<Job<unknown>, 'stillHeld'>): WorkerDeps {
  const { stillHeld } = job;
  if (!stillHeld) return deps;
  return { ...deps, adapterFor: (platform) => guarded(deps.adapterFor(platform), stillHeld) };
}

function guarded(adapter: Adapter | undefined, held: () => boolean): Adapter | undefined {
  if (!adapter) return undefined;
  return new Proxy(adapter, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      // Bound to the adapter itself: a class's private fields are not reachable through a proxy.
      const call = (value as (...args: unknown[]) => unknown).bind(target);
      if (!POSTS.has(name)) return call;
      return async (...args: unknown[]) => {
        if (!held()) throw new LeaseLostError();
        // A stream is entered before the AI has said anything: looked at again as its first words are due to show.
        if (name === 'stream') args[1] = heldAtFirst(args[1] as AsyncIterable<string>, held);
        return call(...args);
      };
    },
  });
}

/**
 * The chunks, refused at the first (nothing shown yet) once the hold is gone. Later ones go on: a
 * stream cut short would leave half an answer on screen (on Slack, the other run takes back a
 * message this one began to stream).
 */
async function* heldAtFirst(chunks: AsyncIterable<string>, held: () => boolean): AsyncGenerator<string> {
  let first = true;
  for await (const chunk of chunks) {
    if (first && !held()) throw new LeaseLostError();
    first = false;
    yield chunk;
  }
}
