/**
 * Sending signed Slack events to parley's ingress processes for the end-to-end benches, three ways:
 *  - flood: CONNECTIONS requests in flight (closed loop); every n-th event is also delivered, at the
 *    same moment, to the other ingress process with X-Slack-Retry-Num (Slack retrying while the
 *    first delivery is still slow);
 *  - paced: open loop at a fixed rate, each event sent on its own schedule whether or not earlier
 *    ones have been acknowledged (as Slack does);
 *  - conversations: several messages into one thread each, the next sent a little after the
 *    previous one was acknowledged, alternating between the ingress processes.
 * Event i goes to ingress i % n; the ledger hears when each was sent and acknowledged.
 */
import { rawPost } from './raw-http.js';
import type { Ledger } from './e2e-ledger.js';
import { quantile } from './e2e-ledger.js';
import { CONNECTIONS } from './settings.js';
import { appMentionBody, slackHeaders, tsOf } from './slack-load.js';

const SERIES = 'E2E';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The acknowledgements of one phase. */
export class Acks {
  deliveries = 0;
  errors = 0;
  readonly latencies: number[] = [];
  private readonly refusedByStatus = new Map<number, number>();

  get refused(): number {
    return [...this.refusedByStatus.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Refused deliveries by HTTP status, e.g. "503 ×4", or ''. */
  get refusals(): string {
    return [...this.refusedByStatus].map(([status, n]) => `${status} ×${n}`).join(', ');
  }

  p(q: number): number {
    return quantile(this.latencies, q);
  }

  /** POST one delivery of event i; returns whether it was acknowledged. */
  async deliver(ledger: Ledger, i: number, url: string, body: string, retry = false): Promise<boolean> {
    this.deliveries++;
    const headers = { ...slackHeaders(body), ...(retry ? { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } : {}) };
    const started = performance.now();
    try {
      // A lean keep-alive sender: it shares the cores with parley (Slack's own senders cost parley nothing).
      const { status } = await rawPost(url, headers, body);
      const ok = status >= 200 && status < 300;
      this.latencies.push(performance.now() - started);
      if (ok) ledger.get(i)!.acknowledged = true;
      else this.refusedByStatus.set(status, (this.refusedByStatus.get(status) ?? 0) + 1);
      return ok;
    } catch {
      this.errors++;
      return false;
    }
  }
}

/** Send `numbers` with CONNECTIONS in flight; every `redeliverEvery`-th also to the next ingress as a retry. */
export async function flood(urls: string[], ledger: Ledger, acks: Acks, numbers: number[], redeliverEvery: number): Promise<void> {
  let next = 0;
  const sender = async () => {
    for (let k = next++; k < numbers.length; k = next++) {
      const i = numbers[k]!;
      const body = appMentionBody(i, SERIES);
      ledger.sent(i);
      const first = acks.deliver(ledger, i, urls[i % urls.length]!, body);
      const again = i % redeliverEvery === 0 ? acks.deliver(ledger, i, urls[(i + 1) % urls.length]!, body, true) : undefined;
      await Promise.all([first, again]);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, sender));
}

/** Start `send(k)` for k = 0 … count − 1, `perSecond` evenly spaced, without waiting for any to end; resolves with all their results. */
export async function openLoop<T>(count: number, perSecond: number, send: (k: number) => Promise<T>): Promise<T[]> {
  const start = performance.now();
  const sending: Promise<T>[] = [];
  for (let k = 0; k < count; k++) {
    const wait = start + (k * 1000) / perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    sending.push(send(k));
  }
  return Promise.all(sending);
}

/** Send `numbers` open loop, `perSecond` evenly spaced, without waiting for acknowledgements. */
export async function paced(urls: string[], ledger: Ledger, acks: Acks, numbers: number[], perSecond: number): Promise<void> {
  await openLoop(numbers.length, perSecond, (k) => {
    const i = numbers[k]!;
    ledger.sent(i);
    return acks.deliver(ledger, i, urls[i % urls.length]!, appMentionBody(i, SERIES));
  });
}

/**
 * `count` conversations of `perConversation` messages, numbered from `first`: each conversation is
 * a thread started by its first message; each next message is sent `gapMs` after the previous one
 * was acknowledged. The conversations run side by side. Returns the event numbers used.
 */
export async function conversations(urls: string[], ledger: Ledger, acks: Acks, first: number, count: number, perConversation: number, gapMs: number): Promise<number[]> {
  const numbers = Array.from({ length: count * perConversation }, (_, k) => first + k);
  const conversation = async (c: number) => {
    const start = first + c * perConversation;
    ledger.watchOrder(tsOf(start));
    for (let i = start; i < start + perConversation; i++) {
      ledger.sent(i);
      await acks.deliver(ledger, i, urls[i % urls.length]!, appMentionBody(i, SERIES, start));
      await sleep(gapMs);
    }
  };
  await Promise.all(Array.from({ length: count }, (_, c) => conversation(c)));
  return numbers;
}
