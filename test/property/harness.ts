/**
 * Run a property over many signed malformed requests: every answer must be below 500, and the
 * process must not see an unhandled error. Keeps a tally of the statuses for the assertions that
 * follow (e.g. "the Events API only ever got 200").
 */
import fc from 'fast-check';

export interface Tally {
  /** How many requests got each status. */
  statuses: Record<number, number>;
  total: number;
}

/**
 * Send `runs` generated requests through `send`. Fails, with fast-check's shrunk example, on the
 * first 5xx or the first status `expected` refuses (e.g. a 401 for a correctly signed request).
 */
export async function sendMalformed<T>(
  arbitrary: fc.Arbitrary<T>,
  send: (input: T) => Promise<Response>,
  runs: number,
  expected: (status: number) => boolean = () => true,
): Promise<Tally> {
  const tally: Tally = { statuses: {}, total: 0 };
  const crashes: unknown[] = [];
  const crashed = (error: unknown) => crashes.push(error);
  process.on('unhandledRejection', crashed);
  process.on('uncaughtException', crashed);
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (input) => {
        const response = await send(input);
        const body = await response.text();
        tally.statuses[response.status] = (tally.statuses[response.status] ?? 0) + 1;
        tally.total++;
        if (response.status >= 500 || !expected(response.status)) throw new Error(`answered ${response.status}: ${body.slice(0, 300)}`);
      }),
      { numRuns: runs },
    );
    // Let anything a request left running (a listener, a store write) settle and fail here if it does.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('unhandledRejection', crashed);
    process.off('uncaughtException', crashed);
  }
  if (crashes.length > 0) throw new Error(`unhandled errors while answering: ${crashes.map(String).join('; ')}`);
  return tally;
}

/** Requests answered with a status in [from, to). */
export function countIn(tally: Tally, from: number, to: number): number {
  return Object.entries(tally.statuses).reduce((sum, [status, count]) => (Number(status) >= from && Number(status) < to ? sum + count : sum), 0);
}
