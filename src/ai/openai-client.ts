import OpenAI from 'openai';
import type { Logger } from 'pino';
import { AnswerCache, asShared } from './answer-cache.js';
import { MemoryResponseCache, requestKey } from './cache.js';
import { openChannel, type TextChannel } from './channel.js';
import { toAiError } from './classify.js';
import { emptyAnswer } from './empty.js';
import { estimatedUsage, usageMissing, usageOrEstimate } from './estimated-usage.js';
import { cutTo, firstChoice, jsonIfText, noStreamEvents, replyCap, streamEndedEarly, textOf } from './malformed.js';
import { ApiKeys, splitApiKeys } from './keys.js';
import { buildMessages, outputLimit } from './messages.js';
import { usageCost } from './prices.js';
import { MemoryAdaptiveLimit, type AdaptiveLimit } from './adaptive-limit.js';
import { withinLimit } from './admission.js';
import { ResiliencePolicy, type Attempt } from './resilience.js';
import { SingleFlight } from './single-flight.js';
import { openAiSdk, sawStreamEnd } from './openai-sdk.js';
import { rememberSecrets } from '../secret-values.js';
import { withoutRequestText } from './request-text.js';
import { ThinkingFilter, withoutThinking } from './think.js';
import { StreamUsageOption } from './stream-options.js';
import type {
  AiClient,
  AiOptions,
  AiRequest,
  AiResult,
  AiStream,
  CallOptions,
  CircuitStateName,
} from './types.js';

type CompletionUsage = OpenAI.CompletionUsage;

/** An AiClient on the official openai SDK, for OpenAI or any OpenAI-compatible server. */
export class OpenAiClient implements AiClient {
  private readonly sdks: ApiKeys<OpenAI>;
  private readonly policy: ResiliencePolicy;
  private readonly concurrency: AdaptiveLimit;
  private readonly flights = new SingleFlight<AiResult>();
  private readonly answers: AnswerCache;
  private readonly log: Logger | undefined;
  private readonly streamUsage: StreamUsageOption;
  /** The usage a call reported, else an estimate (see usageOrEstimate). */
  private readonly reported: ReturnType<typeof usageOrEstimate>;

  constructor(private readonly options: AiOptions) {
    this.log = options.logger?.child({ component: 'ai' });
    // A provider's error may quote the key back: hidden wherever it is logged or stored.
    rememberSecrets(options.apiKey);
    this.reported = usageOrEstimate(options.systemPrompt, this.log);
    this.streamUsage = new StreamUsageOption(this.log);
    // One SDK client per key: a refused key (401) gives way to the next within the same attempt.
    this.sdks = new ApiKeys(
      splitApiKeys(options.apiKey),
      // Local servers need no key, but the SDK refuses to start without one.
      'not-needed',
      (apiKey) => openAiSdk({ apiKey, baseURL: options.baseURL, timeoutMs: options.deadlineMs }),
      {
        logger: this.log?.child({ model: options.model }),
        events: options.events,
        // Counted as the 401 it is (outcome `client`), as it would be with one key.
        onRefusedRequest: (durationMs) => options.events?.onCall?.({ model: options.model, durationMs, ok: false, errorKind: 'client' }),
      },
    );
    this.answers = new AnswerCache(options.cache ?? new MemoryResponseCache(), {
      ttlSeconds: options.cacheTtlSeconds,
      deadlineMs: options.deadlineMs,
      ...(this.log ? { logger: this.log } : {}),
      onLookup: (hit) => options.events?.onCache?.(hit),
    });
    // A slot is held for one call at most; a crashed holder's slot frees itself after this.
    this.concurrency = options.concurrency ?? new MemoryAdaptiveLimit({ max: options.maxConcurrent, leaseMs: options.deadlineMs + 30_000 });
    this.policy = new ResiliencePolicy(options, {
      onAttempt: ({ durationMs, error }) => {
        const call: { model: string; durationMs: number; ok: boolean; errorKind?: string } = {
          model: options.model,
          durationMs,
          ok: error === undefined,
        };
        if (error) call.errorKind = error.kind;
        options.events?.onCall?.(call);
      },
      onRetry: ({ error, delayMs, retry }) =>
        this.log?.warn({ kind: error.kind, status: error.status, retry, delayMs, err: error }, 'AI call failed, retrying'), // err: what came (secrets hidden by its serializer)
      onCircuit: ({ open, openForMs }) =>
        open ? this.log?.warn({ model: options.model }, 'AI circuit breaker opened: the provider keeps failing; messages wait until a call let through succeeds') : this.log?.info({ model: options.model, openSeconds: Math.round(openForMs / 1000) }, 'AI circuit breaker closed: the provider answers again'),
    });
  }

  get circuit(): CircuitStateName {
    return this.policy.circuit;
  }

  /** Answer one message: cache, then single-flight, then the resilient HTTP call (only it takes from admitCall's limit). */
  async reply(request: AiRequest, callOptions: CallOptions = {}): Promise<AiResult> {
    const { signal } = callOptions;
    this.log?.debug({ conversationId: request.conversationId, turns: request.history.length, text: request.text }, 'AI request');
    const key = requestKey(this.options, request);
    const hit = await this.answers.lookup(key);
    if (hit) return hit;
    try {
      // Identical requests in flight share one call in this process, cache or no cache.
      const { value, shared } = await this.flights.run(
        key,
        async (flightSignal) => {
          const elsewhere = await this.answers.fromAnotherProcess(key, flightSignal);
          if (elsewhere.answer) return elsewhere.answer;
          // The claim is short (a crashed holder's goes soon) and kept alive while the call runs.
          const heartbeat = elsewhere.led ? this.answers.keepClaim(key) : undefined;
          try {
            return await this.kept(key, request, await this.resilient((attempt) => withoutRequestText(request, () => this.complete(request, attempt)), flightSignal));
          } finally {
            clearInterval(heartbeat);
            if (elsewhere.led) await this.answers.release(key);
          }
        },
        signal,
      );
      // A caller who joined an identical call in flight paid nothing for its answer.
      return shared ? asShared(value) : value;
    } catch (error) {
      throw toAiError(error, { callerAborted: signal?.aborted === true });
    }
  }

  /** A call's outcome: its usage reported, and kept for the next asker unless empty, cut off or filtered (given once). */
  private async kept(key: string, request: AiRequest, { result, whole }: { result: AiResult; whole: boolean }): Promise<AiResult> {
    this.reportUsage(result, request.tenant);
    return whole ? this.answers.keep(key, result) : result;
  }

  async hasCached(request: AiRequest): Promise<boolean> {
    return this.answers.holds(requestKey(this.options, request));
  }

  /** Delete a conversation's cached answers (its erase). */
  forgetCached(keys: string[]): Promise<void> {
    return this.answers.forget(keys);
  }

  fromCache(request: AiRequest): Promise<AiResult | undefined> {
    // Asked past a spent budget: a hit counts as the message's lookup; a miss is followed by the
    // cheaper model's own lookup, or by a notice that asked for no answer, so it is not one more.
    return this.answers.lookup(requestKey(this.options, request), { missCounted: false });
  }

  /**
   * Stream text deltas; retried only while nothing has been sent. The same cache as `reply`: a hit
   * comes as one chunk, and a whole streamed answer is kept for the next asker (no single-flight:
   * each stream is its reader's own).
   */
  stream(request: AiRequest, callOptions: CallOptions = {}): AiStream {
    this.log?.debug({ conversationId: request.conversationId, turns: request.history.length, text: request.text }, 'AI stream request');
    const { channel, signal } = openChannel(callOptions.signal);
    const key = requestKey(this.options, request);
    const work = (async (): Promise<AiResult> => {
      const hit = await this.answers.lookup(key);
      if (hit) {
        channel.push(hit.text);
        return hit;
      }
      return this.kept(key, request, await this.resilient((attempt) => withoutRequestText(request, () => this.streamAttempt(request, attempt, channel)), signal));
    })();
    return { chunks: channel, result: channel.settle(work), model: () => this.options.model };
  }

  /** The adaptive limit (rate limits waited out) around the policy (retries, breaker, deadline). */
  private resilient<T>(fn: (attempt: Attempt) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const options: Parameters<typeof withinLimit>[2] = { maxInlineWaitMs: this.options.maxInlineWaitMs };
    if (this.options.fallbackAfterMs !== undefined) options.fallbackAfterMs = this.options.fallbackAfterMs;
    if (signal) options.signal = signal;
    if (this.log) options.logger = this.log;
    if (this.options.admitCall) options.admit = this.options.admitCall;
    return withinLimit(this.concurrency, () => this.policy.execute(fn, signal), options);
  }

  /** One completion; `whole` when it finished of itself with some text (worth caching). */
  private async complete(request: AiRequest, attempt: Attempt): Promise<{ result: AiResult; whole: boolean }> {
    const response = jsonIfText(
      await this.sdks.use((sdk) =>
        sdk.chat.completions.create(
          { model: this.options.model, messages: buildMessages(this.options.systemPrompt, request), ...outputLimit(this.options) },
          { signal: attempt.signal },
        ),
        attempt.nextRequest,
      ),
    );
    const choice = firstChoice(response);
    const content = withoutThinking(textOf(choice?.message?.content));
    const given = content || textOf(choice?.message?.refusal);
    const text = this.capped(given);
    const finish = text === given ? choice?.finish_reason : 'length';
    const result = this.unlessEmpty(this.toResult(text, response.model, this.reported(response.usage, request, text)), finish, request.tenant);
    // Servers that say something else than "stop" at the end (eos_token, null) still end whole.
    return { result, whole: Boolean(content) && finish !== 'length' && finish !== 'content_filter' };
  }

  /** One streamed completion; `whole` as in `complete`. */
  private async streamAttempt(request: AiRequest, attempt: Attempt, channel: TextChannel): Promise<{ result: AiResult; whole: boolean }> {
    // A refused key surfaces here, before the first chunk: the next key's stream takes over.
    const { data: stream, response } = await this.sdks.use(
      (sdk) =>
        this.streamUsage.open((usageOption) =>
          sdk.chat.completions
            .create({ model: this.options.model, messages: buildMessages(this.options.systemPrompt, request), ...outputLimit(this.options), stream: true, ...usageOption }, { signal: attempt.signal })
            .withResponse(),
        ),
      attempt.nextRequest,
    );
    let text = '';
    let model = '';
    let usage: CompletionUsage | undefined;
    let finish: string | null | undefined;
    let answered = false; // some content, not only a refusal: as in `complete`, only that is cached
    let events = 0;
    const thinking = new ThinkingFilter(); // a `<think>` block the answer begins with is not shown
    try {
      for await (const chunk of stream) {
        attempt.touch();
        events++;
        if (chunk.model) model = chunk.model;
        if (chunk.usage) usage = chunk.usage;
        const first = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
        finish = first?.finish_reason ?? finish;
        const content = thinking.push(textOf(first?.delta?.content)) + (first?.finish_reason ? thinking.end() : '');
        const piece = content || textOf(first?.delta?.refusal);
        if (content) answered = true;
        const kept = this.capped(piece, text.length);
        if (kept) {
          attempt.delivered();
          text += kept;
          channel.push(kept);
        }
        if (kept !== piece) {
          finish = 'length'; // leaving the loop stops the stream (the SDK aborts its request)
          // Before the usage chunk that ends a stream: the tokens were billed all the same, so counted by estimate.
          usage ??= estimatedUsage(this.options.systemPrompt, request, text);
          break;
        }
      }
      // The SDK ends an aborted stream quietly; a cut-off answer must not pass for a whole one.
      attempt.signal.throwIfAborted();
      // Not an empty answer but no stream at all (an HTML page, a JSON body): say what came.
      if (events === 0) throw noStreamEvents(response.headers.get('content-type'));
      // An answer ends with a finish_reason, a usage chunk or [DONE]; a body that stopped before any was cut.
      if (!finish && usageMissing(usage) && !sawStreamEnd(response)) throw streamEndedEarly(text.length);
    } catch (error) {
      // Cut after some of it came (a proxy, a reset, the deadline, the reader gone): the provider bills
      // it all the same, and the call may be asked again; its usage, else an estimate, counted now.
      if (events > 0) this.reportUsage(this.toResult(text, model, usageMissing(usage) ? estimatedUsage(this.options.systemPrompt, request, text) : usage), request.tenant);
      throw error;
    }
    const result = this.unlessEmpty(this.toResult(text, model, this.reported(usage, request, text)), finish, request.tenant);
    return { result, whole: answered && finish !== 'length' && finish !== 'content_filter' };
  }

  /** `text` within the reply cap (after `before` characters already given), the cut logged. */
  private capped(text: string, before = 0): string {
    const cap = replyCap(this.options.maxOutputTokens);
    const kept = cutTo(text, Math.max(0, cap - before));
    if (kept !== text) this.log?.warn({ cap, maxOutputTokens: this.options.maxOutputTokens }, 'AI answer longer than OPENAI_MAX_OUTPUT_TOKENS allows (the server ignored max_tokens?): cut off there');
    return kept;
  }

  private toResult(text: string, model: string | undefined, usage: CompletionUsage | undefined): AiResult {
    const answeredBy = model || this.options.model;
    return {
      text,
      model: answeredBy,
      usage: usageCost(this.options.prices, answeredBy, usage, this.log),
      cached: false,
    };
  }

  /** The result, unless it has no text: then the attempt fails (kind `empty`), its tokens counted all the same. */
  private unlessEmpty(result: AiResult, finishReason: string | null | undefined, tenant: string | undefined): AiResult {
    const error = emptyAnswer(result.text, finishReason);
    if (!error) return result;
    this.reportUsage(result, tenant);
    throw error;
  }

  /** Every billed call, whatever became of it: the one source of the cost metric and of the budgets' spend. */
  private reportUsage(result: AiResult, tenant: string | undefined): void {
    this.log?.info({ model: result.model, ...result.usage }, 'AI usage');
    try {
      this.options.events?.onUsage?.({ model: result.model, usage: result.usage, ...(tenant !== undefined ? { tenant } : {}) });
    } catch (error) {
      // The answer is paid for and in hand: a listener that fails must not turn it into a failure.
      this.log?.warn({ err: error }, 'could not count the AI usage');
    }
  }
}
