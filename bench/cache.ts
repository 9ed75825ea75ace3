/**
 * The answer cache (issue 15's cache target): MESSAGES Slack questions through one memory-mode
 * `parley serve` (the worker in it, CACHE_TTL_SECONDS on), 30% of them an earlier question asked
 * again in another case, spacing or trailing punctuation. Each question opens its own thread, so
 * each has the same (empty) history, as a frequently asked question does. Prints the AI calls per
 * message (target ≤ 0.72), the cache's hit rate from /metrics, and delivered / lost / duplicated,
 * counted per thread at the fake Slack.
 */
import { startFakeOpenAi, lastUserText } from '../test/fakes/openai-server.js';
import { startFakeSlack } from '../test/fakes/slack-api.js';
import { parleyEnv, startChild, waitUntilReady } from './children.js';
import { openLoop } from './e2e-send.js';
import { fetchMetrics, sumMetric } from './metrics.js';
import { closeRawPools, rawPost } from './raw-http.js';
import { BOT_TOKEN, SIGNING_SECRET, appMentionBody, slackHeaders, tsOf } from './slack-load.js';

const MESSAGES = 1000;
/** Three of every ten messages repeat an earlier question (the first ten are all new): 30%. */
const REPEATS_PER_TEN = 3;
const PER_SECOND = 100;
const AI_LATENCY_MS = 100;
const TARGET_CALLS_PER_MESSAGE = 0.72;
/** Event numbers of this part, apart from the other parts'. */
const FIRST = 3_000_000;
const SERIES = 'CACHE';
const QUIET_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The ways a person asks the same thing again. */
const VARIANTS: ((question: string) => string)[] = [
  (q) => q.toUpperCase(),
  (q) => q.replaceAll(' ', '  '),
  (q) => `${q.replace(/\?$/, '')}!!`,
];

/** The questions in the order sent: new ones, and every tenth's first three repeating an earlier one. */
function cacheQuestions(count: number): { text: string; repeat: boolean }[] {
  const asked: string[] = [];
  return Array.from({ length: count }, (_, i) => {
    if (i >= 10 && i % 10 < REPEATS_PER_TEN) {
      const original = asked[(i * 7919) % asked.length]!;
      return { text: VARIANTS[i % VARIANTS.length]!(original), repeat: true };
    }
    const text = `What does setting number ${asked.length} change?`;
    asked.push(text);
    return { text, repeat: false };
  });
}

/** Run the cache bench and print its lines. Returns whether nothing was lost or duplicated and the target was met. */
export async function benchCache(): Promise<boolean> {
  let aiCalls = 0;
  const ai = await startFakeOpenAi((call) => {
    aiCalls++;
    return { text: `Answer to: ${lastUserText(call)}`, delayMs: AI_LATENCY_MS };
  });
  const slack = await startFakeSlack();
  const replies = new Map<string, number>();
  let lastReplyAt = performance.now();
  slack.on('chat.postMessage', (call) => {
    const thread = String(call.args.thread_ts);
    replies.set(thread, (replies.get(thread) ?? 0) + 1);
    lastReplyAt = performance.now();
    return undefined;
  });
  const server = await startChild(
    ['cli/main.ts', 'serve'],
    parleyEnv({
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      OPENAI_BASE_URL: ai.url,
      RATE_LIMIT_USER_PER_MINUTE: '1000000',
      CACHE_TTL_SECONDS: '3600',
    }),
  );
  try {
    await waitUntilReady(server.url);
    const questions = cacheQuestions(MESSAGES);
    const url = `${server.url}/slack/events`;
    const acks = await openLoop(MESSAGES, PER_SECOND, (k) => {
      const body = appMentionBody(FIRST + k, SERIES, undefined, questions[k]!.text);
      return rawPost(url, slackHeaders(body), body).then(({ status }) => status >= 200 && status < 300, () => false);
    });
    const acked = acks.filter(Boolean).length;
    const threads = questions.map((_, k) => tsOf(FIRST + k));
    while (!threads.every((ts) => replies.has(ts)) && performance.now() - lastReplyAt < QUIET_MS) await sleep(100);
    await sleep(1000); // a late duplicate would show now
    const delivered = threads.filter((ts) => replies.has(ts)).length;
    const duplicated = threads.filter((ts) => (replies.get(ts) ?? 0) > 1).length;
    const metrics = await fetchMetrics(server.url);
    const hits = sumMetric(metrics, 'parley_cache_lookups_total{result="hit"}');
    const lookups = sumMetric(metrics, 'parley_cache_lookups_total');
    const perMessage = aiCalls / MESSAGES;
    const repeats = questions.filter((q) => q.repeat).length;
    console.log(
      `answer cache: ${MESSAGES} Slack questions at ${PER_SECOND}/s through one memory-mode process, ${repeats} of them (${Math.round((repeats / MESSAGES) * 100)}%) an earlier question again` +
        ` in another case, spacing or trailing punctuation, each in a new thread; AI ${AI_LATENCY_MS} ms`,
    );
    console.log(
      `  ${aiCalls} AI calls: ${perMessage.toFixed(2)} per message (target ≤ ${TARGET_CALLS_PER_MESSAGE}: ${perMessage <= TARGET_CALLS_PER_MESSAGE ? 'met' : 'not met'});` +
        ` cache hit rate ${lookups > 0 ? ((hits / lookups) * 100).toFixed(1) : 'n/a'}% (${hits} hits of ${lookups} lookups, parley_cache_lookups_total;` +
        ` ${Math.max(0, MESSAGES - aiCalls - hits)} more shared an identical call still in flight)`,
    );
    console.log(`  delivered ${delivered} / lost ${Math.max(0, acked - delivered)} / duplicated ${duplicated} of ${acked} acknowledged (${MESSAGES} sent)`);
    return acked === MESSAGES && delivered === acked && duplicated === 0 && perMessage <= TARGET_CALLS_PER_MESSAGE;
  } finally {
    await server.stop();
    closeRawPools();
    await Promise.all([ai.close(), slack.close()]);
  }
}
