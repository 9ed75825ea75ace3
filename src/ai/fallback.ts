/**
 * A primary AI client with a stand-in: the fallback (a cheaper model, or another provider)
 * answers while the primary's circuit is open, or once the primary has throttled for longer than
 * the threshold (the primary's own admission hands over then: see `fallbackAfterMs`). The
 * result's `model` says which one answered.
 */
import type { Logger } from 'pino';
import { openChannel } from './channel.js';
import { AiError, type AiErrorDetails } from './errors.js';
import type { AiClient, AiRequest, AiResult, AiStream, CallOptions, CircuitStateName } from './types.js';

export class FallbackAiClient implements AiClient {
  constructor(
    private readonly primary: AiClient,
    private readonly fallback: AiClient,
    /** AI_FALLBACK_AFTER_MS: how long the primary may throttle before the fallback answers. */
    private readonly afterMs: number,
    private readonly logger?: Logger,
  ) {}

  get circuit(): CircuitStateName {
    return this.primary.circuit;
  }

  /** A primary that only gives parley's notice (no provider) never fails over: its answers are notices. */
  get noticeOnly(): boolean {
    return this.primary.noticeOnly === true;
  }

  /** Whichever would answer now, for the cache: the fallback while the primary's circuit is open. */
  private get answering(): AiClient {
    return this.primary.circuit === 'open' ? this.fallback : this.primary;
  }

  async hasCached(request: AiRequest): Promise<boolean> {
    return (await this.answering.hasCached?.(request)) ?? false;
  }

  async fromCache(request: AiRequest): Promise<AiResult | undefined> {
    return this.answering.fromCache?.(request);
  }

  /** Either may have answered (and cached) in the conversation. */
  async forgetCached(keys: string[]): Promise<void> {
    await Promise.all([this.primary.forgetCached?.(keys), this.fallback.forgetCached?.(keys)]);
  }

  async reply(request: AiRequest, options?: CallOptions): Promise<AiResult> {
    if (this.primary.circuit === 'open') return this.viaFallback(openCircuit(), () => this.fallback.reply(request, options));
    try {
      return await this.primary.reply(request, options);
    } catch (error) {
      if (!this.handsOver(error)) throw error;
      return this.viaFallback(error, () => this.fallback.reply(request, options));
    }
  }

  stream(request: AiRequest, options: CallOptions = {}): AiStream {
    const { channel, signal } = openChannel(options.signal);
    let shown = false;
    let current: AiStream | undefined;
    const run = async (client: AiClient) => {
      const stream = client.stream ? client.stream(request, { signal }) : asStream(client.reply(request, { signal }));
      current = stream;
      for await (const chunk of stream.chunks) {
        shown = true;
        channel.push(chunk);
      }
      return stream.result;
    };
    // A hand-over happens before any text (rate limits and an open circuit come first); after
    // text, the fallback's whole answer would follow the primary's half.
    const work = (async () => {
      if (this.primary.circuit === 'open') return this.viaFallback(openCircuit(), () => run(this.fallback));
      try {
        return await run(this.primary);
      } catch (error) {
        if (shown || !this.handsOver(error)) throw error;
        return this.viaFallback(error, () => run(this.fallback));
      }
    })();
    // Which one is answering: a stream the fallback answered and that is cut short is priced as the fallback's.
    return { chunks: channel, result: channel.settle(work), model: () => current?.model?.() };
  }

  /** Whether the fallback should answer this failure of the primary. */
  private handsOver(error: unknown): error is AiError {
    if (!(error instanceof AiError)) return false;
    if (error.kind === 'circuit_open') return true;
    return error.kind === 'rate_limited' && error.throttledSince !== undefined && Date.now() - error.throttledSince >= this.afterMs;
  }

  /**
   * The fallback answers for a primary that said "not now". Should the fallback fail in a way that
   * may pass (a 5xx, a timeout: often the same provider's outage), the primary's "not now" stands:
   * the message waits for a provider to come back instead of spending one of its attempts.
   */
  private async viaFallback<T>(primaryWait: AiError, call: () => Promise<T>): Promise<T> {
    const reason = primaryWait.kind === 'circuit_open' ? 'circuit_open' : 'throttled';
    this.logger?.warn({ reason }, 'AI primary unavailable; the fallback model answers');
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof AiError) || !error.retryable || error.isWait) throw error;
      throw new AiError(primaryWait.kind, `${primaryWait.message}; the fallback failed too (${error.message})`, primaryWaitDetails(primaryWait, error));
    }
  }
}

/** The primary's circuit is open (seen before calling it): when it will probe is its own business. */
function openCircuit(): AiError {
  return new AiError('circuit_open', 'AI provider failing; circuit open');
}

function primaryWaitDetails(primaryWait: AiError, cause: AiError): AiErrorDetails {
  const details: AiErrorDetails = { cause };
  if (primaryWait.retryAfterMs !== undefined) details.retryAfterMs = primaryWait.retryAfterMs;
  if (primaryWait.throttledSince !== undefined) details.throttledSince = primaryWait.throttledSince;
  return details;
}

function asStream(result: Promise<AiResult>): AiStream {
  result.catch(() => undefined);
  return {
    chunks: (async function* () {
      yield (await result).text;
    })(),
    result,
  };
}
