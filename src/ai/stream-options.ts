import { APIError } from 'openai';
import type { Logger } from 'pino';

type StreamOptions = { stream_options?: { include_usage: true } };

/**
 * `stream_options: { include_usage: true }` asks for a stream's token usage (OpenAI). Servers and
 * gateways that do not know it refuse the whole request: Azure OpenAI before api-version
 * 2024-09-01-preview ("Unrecognized request argument supplied: stream_options"), one-api/new-api
 * gateways ("Unknown parameter: 'stream_options'"), FastAPI servers that forbid extra fields (422).
 * Once refused, streams are asked for without it (their usage then estimated, as for a server that
 * ignores it), instead of every streamed answer failing as a client error.
 */
export class StreamUsageOption {
  private refused = false;

  constructor(private readonly log: Logger | undefined) {}

  /** `open` with the option, and again at once without it if the server refused it. */
  async open<T>(open: (options: StreamOptions) => Promise<T>): Promise<T> {
    if (this.refused) return open({});
    try {
      return await open({ stream_options: { include_usage: true } });
    } catch (error) {
      if (!refusesStreamOptions(error)) throw error;
      this.refused = true;
      this.log?.warn({ status: (error as APIError).status }, 'AI provider refused stream_options: streams are asked without it, their token usage estimated');
      return open({});
    }
  }
}

function refusesStreamOptions(error: unknown): boolean {
  if (!(error instanceof APIError) || error.status === undefined || error.status < 400 || error.status >= 500) return false;
  return error.param === 'stream_options' || /stream_options|include_usage/.test(error.message);
}
