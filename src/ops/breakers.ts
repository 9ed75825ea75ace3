/**
 * Every process's AI circuit breaker, for the console: each process writes its state into the
 * shared counters every few seconds (a field of its own in a 10 s bucket that expires soon after),
 * so the page shows the workers' breakers whichever process serves it (an ingress has no AI
 * calls of its own). A process that stops reporting drops out within two buckets.
 */
import { randomUUID } from 'node:crypto';
import type { CircuitStateName } from '../ai/index.js';
import type { Tally } from './tally.js';

const BUCKET_MS = 10_000;
const TTL_MS = 3 * BUCKET_MS;
/** Worst first: what the overview shows when processes differ. */
const SEVERITY: readonly CircuitStateName[] = ['open', 'isolated', 'half-open', 'closed'];

export interface BreakerSummary {
  /** The worst state of any process reporting (this one's included). */
  state: CircuitStateName;
  /** How many processes are in each state. */
  processes: Partial<Record<CircuitStateName, number>>;
}

export class Breakers {
  private readonly id = randomUUID().slice(0, 12);
  private writing: Promise<unknown> | undefined;

  constructor(
    private readonly tally: Tally,
    private readonly own: () => CircuitStateName,
  ) {}

  /** Report this process's state; never waits for the write (a slow Redis must not hold the checks). */
  publish(now = Date.now()): void {
    if (this.writing) return;
    this.writing = this.tally
      .add(bucketKey(now), { [`${this.own()}:${this.id}`]: 1 }, TTL_MS)
      .catch(() => undefined)
      .finally(() => (this.writing = undefined));
  }

  async summary(now = Date.now()): Promise<BreakerSummary> {
    const states = new Map<string, CircuitStateName>([[this.id, this.own()]]);
    try {
      // The previous bucket first: a process's newer report overrides it.
      const [previous, current] = await Promise.all([this.tally.read(bucketKey(now - BUCKET_MS)), this.tally.read(bucketKey(now))]);
      for (const fields of [previous, current]) {
        const seen = new Map<string, CircuitStateName>();
        for (const field of Object.keys(fields)) {
          const at = field.lastIndexOf(':');
          const [state, id] = [field.slice(0, at) as CircuitStateName, field.slice(at + 1)];
          if (!SEVERITY.includes(state) || id === this.id) continue;
          const before = seen.get(id);
          if (!before || SEVERITY.indexOf(state) < SEVERITY.indexOf(before)) seen.set(id, state);
        }
        for (const [id, state] of seen) states.set(id, state);
      }
    } catch {
      // The shared counters are down: this process's own state is all there is to show.
    }
    const processes: BreakerSummary['processes'] = {};
    for (const state of states.values()) processes[state] = (processes[state] ?? 0) + 1;
    const state = SEVERITY.find((s) => processes[s]) ?? 'closed';
    return { state, processes };
  }
}

function bucketKey(now: number): string {
  // Under `parley:` like the spend and traffic counters (REDIS_PREFIX goes before it).
  return `parley:breakers:${Math.floor(now / BUCKET_MS)}`;
}
