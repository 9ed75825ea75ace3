/**
 * A primary AI client with a stand-in: the fallback (a cheaper model, or another provider)
 * answers while the primary's circuit is open, or once the primary has throttled for longer than
 * the threshold (the primary's own admission hands over then: see `fallbackAfterMs`). The
 * result's `model` says which one answered.
 */
import type { Logger } from 'pino';
import { openChannel } from './channel.js';
import { AiError } from './errors.js';
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

  async hasCached(request: AiRequest): Promise<boolean> {
    // Whichever would answer now: the fallback while the primary's circuit is open.
    const answering = this.primary.circuit === 'open' ? this.fallback : this.primary;
    return (await answering.hasCached?.(request)) ?? false;
  }

  async reply(request: AiRequest, options?: CallOptions): Promise<AiResult> {
    if (this.primary.circuit === 'open') return this.viaFallback('circuit_open', () => this.fallback.reply(request, options));
    try {
      return await this.primary.reply(request, options);
    } catch (error) {
      const reason = this.handOverReason(error);
      if (!reason) throw error;
      return this.viaFallback(reason, () => this.fallback.reply(request, options));
    }
  }

  stream(request: AiRequest, options: CallOptions = {}): AiStream {
    const { channel, signal } = openChannel(options.signal);
    let shown = false;
    const run = async (client: AiClient) => {
      const stream = client.stream ? client.stream(request, { signal }) : asStream(client.reply(request, { signal }));
      for await (const chunk of stream.chunks) {
        shown = true;
        channel.push(chunk);
      }
      return stream.result;
    };
    // A hand-over happens before any text (rate limits and an open circuit come first); after
    // text, the fallback's whole answer would follow the primary's half.
    const work = (async () => {
      if (this.primary.circuit === 'open') return this.viaFallback('circuit_open', () => run(this.fallback));
      try {
        return await run(this.primary);
      } catch (error) {
        const reason = shown ? undefined : this.handOverReason(error);
        if (!reason) throw error;
        return this.viaFallback(reason, () => run(this.fallback));
      }
    })();
    return { chunks: channel, result: channel.settle(work) };
  }

  /** Why the fallback should answer this failure of the primary, if it should. */
  private handOverReason(error: unknown): string | undefined {
    if (!(error instanceof AiError)) return undefined;
    if (error.kind === 'circuit_open') return 'circuit_open';
    if (error.kind === 'rate_limited' && error.throttledSince !== undefined && Date.now() - error.throttledSince >= this.afterMs) return 'throttled';
    return undefined;
  }

  private async viaFallback<T>(reason: string, call: () => Promise<T>): Promise<T> {
    this.logger?.warn({ reason }, 'AI primary unavailable; the fallback model answers');
    return call();
  }
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
