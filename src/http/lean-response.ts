/**
 * The Response leanFetch hands back: an answer already read whole, so `text()` and `json()` decode
 * the bytes in hand. Constructing undici's Response wraps them in a web stream first, and reading
 * it back drains that stream: together about a tenth of a reply's CPU in the SDKs' small calls.
 * What is rarely used (the body as a stream, a blob, a form) is delegated to a real Response made
 * from the same bytes. A body is read once, as fetch's is.
 */
const utf8 = new TextDecoder(); // strips a BOM, as Response.text() does

export class LeanResponse implements Response {
  readonly type = 'basic';
  readonly redirected = false;
  #used = false;
  #real?: Response;

  constructor(
    private readonly bytesRead: Buffer | null,
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    readonly url: string,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real?.bodyUsed ?? false);
  }

  get body(): Response['body'] {
    return this.bytesRead === null ? null : this.real().body;
  }

  async text(): Promise<string> {
    this.unread();
    return this.#real ? this.#real.text() : utf8.decode(this.take());
  }

  async json(): Promise<unknown> {
    this.unread();
    return this.#real ? this.#real.json() : (JSON.parse(utf8.decode(this.take())) as unknown);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.unread();
    return this.#real ? this.#real.arrayBuffer() : new Uint8Array(this.take()).buffer;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    this.unread();
    return new Uint8Array(this.#real ? await this.#real.arrayBuffer() : this.take());
  }

  async blob(): Promise<Blob> {
    this.unread();
    return this.real().blob();
  }

  async formData(): Promise<FormData> {
    this.unread();
    return this.real().formData();
  }

  clone(): Response {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    if (this.#real) return this.#real.clone();
    return new LeanResponse(this.bytesRead, this.status, this.statusText, this.headers, this.url);
  }

  /** A body is read once: a second read fails as fetch's does. */
  private unread(): void {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
  }

  private take(): Uint8Array {
    this.#used = true;
    return this.bytesRead ?? new Uint8Array(0);
  }

  /** A real Response from the same bytes, for the rarely used parts; made once, and read from then on. */
  private real(): Response {
    if (this.#real) return this.#real;
    this.#real = new Response(this.bytesRead, { status: this.status, statusText: this.statusText, headers: this.headers });
    return this.#real;
  }
}
