/**
 * The end-to-end benches' account of every event: when it was sent, whether it was acknowledged,
 * the replies the fake Slack was asked to post for it (and when), and the calls the fake AI
 * answered for it (and how long each spent inside the fake). Events are numbered; the number is in
 * the text ("question number <i>"), which the fake AI echoes into the reply.
 */
import { lastUserText, startFakeOpenAi, type ChatCall, type FakeOpenAi } from '../test/fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack-api.js';

const QUESTION = /question number (\d+)/;
const numberIn = (text: string): number => Number(QUESTION.exec(text)?.[1] ?? -1);

/** One event. Times are performance.now() of the bench process. */
export interface Tracked {
  sentAt: number;
  acknowledged: boolean;
  replies: number;
  repliedAt?: number;
  aiCalls: ChatCall[];
}

/** How a set of events ended. */
export interface Outcome {
  sent: number;
  acknowledged: number;
  /** Answered at least once. */
  delivered: number;
  /** Acknowledged and never answered. */
  lost: number;
  /** Answered more than once. */
  duplicated: number;
}

export class Ledger {
  private readonly events = new Map<number, Tracked>();
  /** The order check's conversations: thread ts → event numbers in the order their replies came. */
  private readonly threads = new Map<string, number[]>();
  /** Replies naming no tracked event. */
  stray = 0;
  aiCalls = 0;
  /** performance.now() of the last reply. */
  lastReplyAt = 0;

  /** Start tracking event i, sent now. */
  sent(i: number): Tracked {
    const tracked: Tracked = { sentAt: performance.now(), acknowledged: false, replies: 0, aiCalls: [] };
    this.events.set(i, tracked);
    return tracked;
  }

  get(i: number): Tracked | undefined {
    return this.events.get(i);
  }

  /** The fake AI's script: echo the question after `delayMs`, and keep the call with its event. */
  answerAfter(delayMs: number) {
    return (call: ChatCall) => {
      this.aiCalls++;
      const text = lastUserText(call);
      this.events.get(numberIn(text))?.aiCalls.push(call);
      return { text: `echo: ${text}`, delayMs };
    };
  }

  /** Count the replies the fake Slack is asked to post. */
  listen(slack: FakeSlack): void {
    slack.on('chat.postMessage', (call) => {
      const i = numberIn(String(call.args.text));
      const tracked = this.events.get(i);
      const now = performance.now();
      if (!tracked) this.stray++;
      else if (tracked.replies++ === 0) tracked.repliedAt = now;
      this.lastReplyAt = now;
      if (tracked && tracked.replies === 1) this.threads.get(String(call.args.thread_ts))?.push(i);
      return undefined; // Slack's usual answer
    });
  }

  /** Check the order of the replies in the thread `threadTs` (call before sending into it). */
  watchOrder(threadTs: string): void {
    this.threads.set(threadTs, []);
  }

  /** Replies checked in the watched threads, and how many came after the reply to a message sent later. */
  order(): { checked: number; outOfOrder: number } {
    let checked = 0;
    let outOfOrder = 0;
    for (const replies of this.threads.values()) {
      let highest = -1;
      for (const i of replies) {
        checked++;
        if (i < highest) outOfOrder++;
        highest = Math.max(highest, i);
      }
    }
    return { checked, outOfOrder };
  }

  outcome(numbers: number[]): Outcome {
    const tracked = numbers.map((i) => this.events.get(i)).filter((t): t is Tracked => t !== undefined);
    return {
      sent: tracked.length,
      acknowledged: tracked.filter((t) => t.acknowledged).length,
      delivered: tracked.filter((t) => t.replies > 0).length,
      lost: tracked.filter((t) => t.acknowledged && t.replies === 0).length,
      duplicated: tracked.filter((t) => t.replies > 1).length,
    };
  }

  /** Whether every acknowledged event among `numbers` has a reply. */
  allAnswered(numbers: number[]): boolean {
    return numbers.every((i) => {
      const t = this.events.get(i);
      return !t?.acknowledged || t.replies > 0;
    });
  }

  /**
   * Reply overhead per answered event, ms: from sending the webhook to the fake Slack getting the
   * reply, minus the time the event's AI calls spent inside the fake AI.
   */
  overheads(numbers: number[]): number[] {
    return numbers.flatMap((i) => {
      const t = this.events.get(i);
      if (t?.repliedAt === undefined) return [];
      const aiMs = t.aiCalls.reduce((sum, call) => sum + ((call.answeredAt ?? call.at) - call.at), 0);
      return [t.repliedAt - t.sentAt - aiMs];
    });
  }
}

/** The q-quantile (0..1) of `values`, NaN when there are none. */
export function quantile(values: number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** A fake AI answering after `delayMs` and a fake Slack, both reporting to `ledger`. */
export async function trackedFakes(ledger: Ledger, delayMs: number): Promise<{ ai: FakeOpenAi; slack: FakeSlack; close(): Promise<void> }> {
  const ai = await startFakeOpenAi(ledger.answerAfter(delayMs));
  const slack = await startFakeSlack();
  ledger.listen(slack);
  // The fakes log every call and the fake Slack scans its log on each one: keep the logs short.
  const trim = setInterval(() => {
    slack.calls.length = 0;
    ai.calls.length = 0;
  }, 100);
  return {
    ai,
    slack,
    close: async () => {
      clearInterval(trim);
      await Promise.all([ai.close(), slack.close()]);
    },
  };
}
