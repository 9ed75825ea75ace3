/**
 * Key rotation: OPENAI_API_KEY may list several keys, comma-separated. Calls use one key at a
 * time, the first to begin with; a key the provider refuses (401) gives way to the next, at once,
 * round the list: a call fails only when every key has been refused in it. (Not "for good": one
 * stray 401 on the new key must not leave a process on the old key once that is revoked.) The
 * keys themselves never leave this file: not in events, not in errors, not in logs.
 */
import { AuthenticationError } from 'openai';
import type { Logger } from 'pino';
import { AiError } from './errors.js';
import type { AiEvents, KeyRejection } from './types.js';

/** The keys of a comma-separated list, trimmed, empty entries dropped. */
export function splitApiKeys(apiKey: string | undefined): string[] {
  return (apiKey ?? '').split(',').map((key) => key.trim()).filter(Boolean);
}

export interface ApiKeysHooks {
  logger?: Logger | undefined;
  events?: AiEvents | undefined;
  /**
   * An HTTP request refused with a key that was not the call's last (the next key goes on within
   * the same attempt): its own attempt for the calls metric, which the policy's attempt would hide.
   */
  onRefusedRequest?: ((durationMs: number) => void) | undefined;
}

/** One client per key, and which of them calls go through now. */
export class ApiKeys<Client> {
  private readonly clients: Client[];
  /** Index of the key in use; a refusal moves it to the next, round the list. */
  private current = 0;

  /**
   * @param keys the keys in order; none (a local server that needs no key) makes one client with
   *   `placeholder`, whose 401s pass through untouched.
   */
  constructor(
    private readonly keys: readonly string[],
    placeholder: string,
    clientFor: (key: string) => Client,
    private readonly hooks: ApiKeysHooks = {},
  ) {
    this.clients = (keys.length > 0 ? keys : [placeholder]).map(clientFor);
  }

  /**
   * Run `call` with the client of the key in use; when the provider refuses that key, run it again
   * at once with the next. Fails as a 401 'client' error once it has been refused with as many keys
   * as there are. `nextRequest`: called as the next key's request begins (the refused one's time is
   * reported on its own, so the caller's clock starts again).
   */
  async use<T>(call: (client: Client) => Promise<T>, nextRequest?: () => void): Promise<T> {
    for (let refusals = 1; ; refusals++) {
      const index = this.current;
      const started = performance.now();
      try {
        return await call(this.clients[index]!);
      } catch (error) {
        if (!(error instanceof AuthenticationError) || this.keys.length === 0) throw error;
        const last = refusals >= this.keys.length;
        this.refused(index, last);
        // The last refusal ends the attempt: the policy reports that one, as any 401.
        if (last) throw allRefused(error, this.keys.length);
        this.hooks.onRefusedRequest?.(performance.now() - started);
        nextRequest?.();
      }
    }
  }

  /**
   * Compare-and-advance: only a refusal of the key still in use moves on (and is reported), so
   * concurrent calls refused with the same key advance once and skip none. `last`: this call has
   * been refused with every key (the next call begins with the next key all the same).
   */
  private refused(index: number, last: boolean): void {
    if (index !== this.current) return; // another call already moved past that key
    const keys = this.keys.length;
    const next = (index + 1) % keys;
    const rejection: KeyRejection = { keyIndex: index, keys };
    if (!last) rejection.nextIndex = next;
    this.hooks.logger?.warn(rejection, `AI provider refused key #${index + 1} of ${keys} (401); ${last ? 'no key left to try' : `using key #${next + 1}`}`);
    this.hooks.events?.onKeyRejected?.(rejection);
    this.current = next;
  }
}

/**
 * The permanent failure once every key has been refused: kind 'client', status 401, as any 401.
 * It does not carry the provider's error (nor its message) on: OpenAI quotes part of the refused
 * key there ("Incorrect API key provided: sk-ab****wxyz"), and a logged error shows its causes.
 */
function allRefused(error: AuthenticationError, keys: number): AiError {
  const code = typeof error.code === 'string' && /^[a-z_]{1,64}$/.test(error.code) ? ` ${error.code}` : '';
  const which = keys === 1 ? 'the API key' : `all ${keys} API keys`;
  return new AiError('client', `AI provider refused ${which} (401${code})`, { status: 401 });
}
