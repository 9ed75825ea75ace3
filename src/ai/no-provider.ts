import type { AiClient, AiRequest, AiResult, AiStream } from './types.js';

/** Answers without any AI, so a fresh install works end to end and says what to configure. */
export class NoProviderAiClient implements AiClient {
  readonly circuit = 'closed' as const;
  readonly noticeOnly = true;

  /**
   * Echo the message with a hint to configure a provider: parley's own notice, not a model's answer
   * (posted as a notice, without feedback buttons, and not kept in the history a model reads later).
   */
  async reply(request: AiRequest): Promise<AiResult> {
    return {
      text: `[parley] No AI provider configured (set OPENAI_API_KEY or OPENAI_BASE_URL). You said: "${request.text}"`,
      model: 'none',
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
      cached: false,
      notice: true,
    };
  }

  /** The same text as one chunk, said to be a notice before it. */
  stream(request: AiRequest): AiStream {
    const result = this.reply(request);
    async function* chunks() {
      yield (await result).text;
    }
    return { chunks: chunks(), result, notice: Promise.resolve(true) };
  }
}
