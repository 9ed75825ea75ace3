/**
 * The model's text as streamed (`markdown_text`) cannot ping anyone. Slack reads its control
 * sequences there too: its own AI tutorial streams the model's markdown_text and tells the model
 * to keep `<@USER_ID>` and `<#CHANNEL_ID>` as they are for Slack to render. So a reply a user asks
 * the model to repeat could carry `<!channel>` to a whole channel. Unlike the mrkdwn path
 * (mrkdwn.ts), `&lt;` is no way out: how Slack's markdown reads entities is not documented, and in
 * CommonMark a code span shows `&lt;` as written. A zero-width space after the `<` (or the `@` of
 * a bare `@here`) breaks the sequence wherever it is, code included, and shows nothing: the
 * reader sees the text as the model wrote it. Only what can notify or link someone is touched:
 * `<!--` and `<!DOCTYPE` in code stay as they are.
 */

const ZERO_WIDTH_SPACE = '\u200B';

/** `<@U…>`, `<#C…>`, `<!here>`, `<!channel>`, `<!everyone>`, `<!group>`, `<!subteam^…>`; a bare `@here` / `@channel` / `@everyone`. */
const MENTION_START = /<(?=[@#]|!(?:here|channel|everyone|group|subteam))|(?<!\w)@(?=here|channel|everyone)/gi;

/** How mentions begin: a text ending in a shorter piece of one may be a mention once the next chunk comes. */
const MENTION_HEADS = ['<@', '<#', '<!here', '<!channel', '<!everyone', '<!group', '<!subteam', '@here', '@channel', '@everyone'];
const LONGEST_HEAD = Math.max(...MENTION_HEADS.map((head) => head.length));

/** `text` with every mention made inert: a zero-width space after its `<` (or `@`). */
export function inertMentions(text: string): string {
  return text.replace(MENTION_START, `$&${ZERO_WIDTH_SPACE}`);
}

/**
 * Streamed text made inert chunk by chunk: `<!chan` at the end of one chunk and `nel>` at the start
 * of the next are one mention, so a chunk's tail that may begin one is held back until the next
 * chunk (or the end) tells.
 */
export class InertMentionStream {
  private held = '';
  /** The last character passed on: an `@` after a letter is part of an address, not a mention. */
  private last = '';

  /** The chunk (after what was held) made inert, less a tail that may begin a mention. */
  push(chunk: string): string {
    const text = this.held + chunk;
    const cut = text.length - unfinishedHead(text);
    this.held = text.slice(cut);
    return this.pass(text.slice(0, cut));
  }

  /** The text has ended: what was held, made inert. */
  end(): string {
    const rest = this.held;
    this.held = '';
    return this.pass(rest);
  }

  /** How many characters of the text so far are held back (not passed on yet). */
  get heldChars(): number {
    return this.held.length;
  }

  private pass(text: string): string {
    if (text === '') return '';
    const out = inertMentions(this.last + text).slice(this.last.length);
    this.last = text.slice(-1);
    return out;
  }
}

/** The length of the longest tail of `text` that is the start of a mention, not the whole of its head. */
function unfinishedHead(text: string): number {
  for (let at = Math.max(0, text.length - LONGEST_HEAD + 1); at < text.length; at++) {
    const tail = text.slice(at).toLowerCase();
    if ((tail[0] === '<' || tail[0] === '@') && MENTION_HEADS.some((head) => head.length > tail.length && head.startsWith(tail))) return text.length - at;
  }
  return 0;
}
