/**
 * The AI client under the budgets: every answer's cost is counted (per UTC day and month,
 * overall, by model and by tenant), and once a budget is spent AI_BUDGET_POLICY decides: a polite
 * notice instead of the AI, the cheaper fallback model, or the AI anyway (the alert is all).
 */
import type { Logger } from 'pino';
import { type AiClient, type AiRequest, type AiResult, type AiStream, type CallOptions, type CircuitStateName } from '../ai/index.js';
import type { BudgetConfig } from '../config.js';
import type { Metrics } from '../observe/index.js';
import { OutageLog } from '../observe/outage-log.js';
import type { Spend } from './spend.js';

export interface BudgetedAiOptions {
  spend: Spend;
  policy: BudgetConfig['policy'];
  notice: string;
  /** The cheaper model for the `fallback` policy. */
  cheaper?: AiClient;
  metrics: Metrics;
  logger: Logger;
  /**
   * The cost of a stream cut short (its reader stopped, or the AI failed after some text): no
   * usage comes then, yet the tokens were billed. Absent: such a stream counts nothing.
   */
  estimate?(request: AiRequest, shownText: string, by: 'primary' | 'cheaper', model?: string): { model: string; costUsd: number };
  /**
   * The clients' usage events already record the spend (parley's own clients: every billed call,
   * an empty answer's too, as the cost metric counts it): answers are then not counted again here.
   * Default false: a client without events (an embedder's own) is counted by its answers.
   */
  spendFromEvents?: boolean;
}

/** Who answers: a client, parley's notice, or (past a budget) the answer the cache already holds. */
type Choice = { client: AiClient } | { notice: true } | { cached: AiResult };

export class BudgetedAiClient implements AiClient {
  /** Once a minute while the spend cannot be read, not once per call. */
  private readonly unreadable: OutageLog;

  constructor(
    private readonly ai: AiClient,
    private readonly options: BudgetedAiOptions,
  ) {
    this.unreadable = new OutageLog(
      options.logger,
      'could not read the AI spend; answering without the budget check (logged once a minute while it lasts)',
      'the AI spend can be read again; the budget checks apply',
    );
    if (ai.stream) this.stream = (request, callOptions) => this.streamWithin(request, callOptions);
  }

  readonly stream?: (request: AiRequest, options?: CallOptions) => AiStream;

  get circuit(): CircuitStateName {
    return this.ai.circuit;
  }

  /** The cheaper model may have answered (and cached) in the conversation too. */
  async forgetCached(keys: string[]): Promise<void> {
    await Promise.all([this.ai.forgetCached?.(keys), this.options.cheaper?.forgetCached?.(keys)]);
  }

  async reply(request: AiRequest, options?: CallOptions): Promise<AiResult> {
    const chosen = await this.choose(request);
    if ('notice' in chosen) return this.noticeResult();
    if ('cached' in chosen) return chosen.cached;
    return this.counted(request, await chosen.client.reply(request, options));
  }

  private streamWithin(request: AiRequest, options?: CallOptions): AiStream {
    let settle!: { resolve(result: AiResult): void; reject(error: unknown): void };
    const result = new Promise<AiResult>((resolve, reject) => (settle = { resolve, reject }));
    result.catch(() => undefined); // the chunks' consumer sees the error first
    let settled = false;
    // Chosen at once: whether this is a notice is known before any text (the handler posts one as a notice).
    const chosen = this.choose(request);
    const chunks = async function* (this: BudgetedAiClient): AsyncGenerator<string> {
      try {
        const choice = await chosen;
        if (!('client' in choice)) {
          const given = 'cached' in choice ? choice.cached : this.noticeResult();
          yield given.text;
          settled = true;
          settle.resolve(given);
          return;
        }
        const { client } = choice;
        const stream = client.stream ? client.stream(request, options) : undefined;
        if (stream) {
          let shown = '';
          let whole = false;
          try {
            for await (const chunk of stream.chunks) {
              shown += chunk;
              yield chunk;
            }
            whole = true;
          } finally {
            if (!whole && shown) this.countCut(request, shown, client === this.ai ? 'primary' : 'cheaper', stream);
          }
          settled = true;
          settle.resolve(this.counted(request, await stream.result));
        } else {
          const whole = this.counted(request, await client.reply(request, options));
          yield whole.text;
          settled = true;
          settle.resolve(whole);
        }
      } catch (error) {
        settled = true;
        settle.reject(error);
        throw error;
      } finally {
        // The reader stopped before the end (a platform refusing the stream): the result settles too.
        if (!settled) settle.reject(new Error('the stream was stopped by its reader before its end'));
      }
    }.call(this);
    // Known before any text, without starting the stream: a stream nobody reads makes no AI call.
    return { chunks, result, notice: chosen.then((choice) => 'notice' in choice || ('client' in choice && choice.client.noticeOnly === true)) };
  }

  /** Which client answers this request, or a notice, by the budgets and the policy. */
  private async choose(request: AiRequest): Promise<Choice> {
    const { spend, policy, cheaper, metrics, logger } = this.options;
    const over = await spend.check(request.tenant).then(
      (checked) => {
        if (checked.read) this.unreadable.worked('unchecked');
        return checked.over;
      },
      (error: unknown) => {
        // Unknown spend must not stop answers: the counters are back within seconds.
        this.unreadable.failed(error);
        return undefined;
      },
    );
    if (!over) return { client: this.ai };
    const action = policy === 'fallback' && cheaper ? 'fallback' : policy === 'allow' ? 'allow' : 'notice';
    // The conversation, as the message's own lines name it: support finds which message got the notice.
    const spent = { scope: over.scope, tenant: over.tenant, period: over.period, conversation: request.conversationId };
    // A cached answer costs nothing: given past the budget too (the primary model's, under `fallback` too).
    // Looked up only past a budget, so the normal path reads the cache once, inside the client.
    const cached = action === 'allow' ? undefined : await this.cachedAnswer(request);
    if (cached) {
      logger.info(spent, 'AI budget spent; a cached answer is given');
      return { cached };
    }
    metrics.budgetActions.inc({ action });
    logger.info({ action, ...spent }, 'AI budget spent');
    return action === 'notice' ? { notice: true } : { client: action === 'fallback' ? cheaper! : this.ai };
  }

  /** The primary's cached answer, if its client can say; a cache that fails to answer is a miss. */
  private async cachedAnswer(request: AiRequest): Promise<AiResult | undefined> {
    try {
      return await this.ai.fromCache?.(request);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the AI cache past the budget; the budget policy applies');
      return undefined;
    }
  }

  /**
   * The answer goes on while its cost is counted (and any budget alert raised): on Redis the count
   * leaves with the reply's first writes instead of holding the reply up for a round trip.
   */
  private counted(request: AiRequest, result: AiResult): AiResult {
    if (this.options.spendFromEvents) return result;
    this.options.spend.record(result.model, request.tenant, result.usage.costUsd).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not count the AI spend');
    });
    return result;
  }

  /**
   * A stream cut short: its cost as estimated (the text shown, the prompt), counted like an answer's.
   * Not with the clients' usage events: parley's client counts an attempt cut after its first chunk
   * itself (its usage, else an estimate), in the tokens and cost metrics too.
   */
  private countCut(request: AiRequest, shownText: string, by: 'primary' | 'cheaper', stream: AiStream): void {
    if (this.options.spendFromEvents) return;
    // Asked now: the model that was streaming (a fallback that took over is priced as itself).
    const estimated = this.options.estimate?.(request, shownText, by, stream.model?.());
    if (!estimated) return;
    this.options.spend.record(estimated.model, request.tenant, estimated.costUsd).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not count the AI spend');
    });
  }

  private noticeResult(): AiResult {
    return { text: this.options.notice, model: 'budget', usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, cached: false, notice: true };
  }
}
