import { NotFoundError } from 'openai';
import { openAiSdk } from '../src/ai/openai-sdk.js';
import { withoutCredentials } from './unreached.js';

/**
 * A 404 for the list of models is most often a base URL without its `/v1` (Ollama, vLLM, LM Studio
 * and llama.cpp serve the API under it, and answer "404 page not found" or nothing at the root):
 * said so, with the address that does answer when `<base>/v1` lists models.
 */
export async function notFoundAtBase(error: unknown, apiKey: string, baseURL: string | undefined, variable: string, timeoutMs: number): Promise<Error | undefined> {
  if (!(error instanceof NotFoundError) || !baseURL) return undefined;
  const base = baseURL.replace(/\/+$/, '');
  const said = `${error.message} for ${withoutCredentials(base)}/models`;
  if (!/\/v\d+[a-z\d]*$/i.test(base)) {
    const withV1 = `${base}/v1`;
    try {
      await openAiSdk({ apiKey, baseURL: withV1, timeoutMs }).models.list();
      return new Error(`${said}, but ${withoutCredentials(withV1)} answers: set ${variable} to ${withoutCredentials(withV1)}`);
    } catch {
      // nothing there either: the general hint
    }
  }
  return new Error(`${said}: ${variable} must be the API's base, where /chat/completions and /models are (most end in /v1)`);
}
