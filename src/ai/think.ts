/**
 * A reasoning model's thinking written into the answer itself: DeepSeek-R1, Qwen3 and QwQ open it
 * with `<think>` and close it with `</think>` on servers that do not set it apart as
 * `reasoning_content` (Ollama before 0.9, vLLM without a reasoning parser, llama.cpp with
 * `--reasoning-format none`, Groq's `reasoning_format: raw`). It is the model's scratch work, not
 * the answer: the user is given only what follows it.
 */
const OPEN = '<think>';
const CLOSE = '</think>';

/** A whole answer without the thinking it begins with. */
export function withoutThinking(text: string): string {
  // Most answers (every cache hit is read through here) begin with no tag at all: no copy, no filter.
  if (!/^\s*</.test(text)) return text;
  const filter = new ThinkingFilter();
  return filter.push(text) + filter.end();
}

/** A streamed answer's pieces without the thinking it begins with: held back until it is known not to be thinking. */
export class ThinkingFilter {
  private held = '';
  private state: 'start' | 'thinking' | 'after' | 'answer' = 'start';

  /** What of `piece` the user may see now. */
  push(piece: string): string {
    if (this.state === 'answer') return piece;
    // The blank lines after `</think>` may come in pieces of their own.
    if (this.state === 'after') return this.answer(piece.trimStart());
    this.held += piece;
    if (this.state === 'start') {
      const lead = this.held.trimStart();
      if (lead.length < OPEN.length && OPEN.startsWith(lead)) return ''; // "<thi": not known yet
      if (!lead.startsWith(OPEN)) return this.answer(this.held);
      this.state = 'thinking';
    }
    const close = this.held.indexOf(CLOSE);
    if (close < 0) {
      this.held = this.held.slice(-(CLOSE.length - 1)); // only what may begin the closing tag is kept
      return '';
    }
    return this.answer(this.held.slice(close + CLOSE.length).trimStart());
  }

  /** At the end of the answer: text held back that never became thinking; thinking never closed shows nothing. */
  end(): string {
    return this.state === 'start' ? this.answer(this.held) : '';
  }

  private answer(text: string): string {
    this.state = text === '' ? 'after' : 'answer';
    this.held = '';
    return text;
  }
}
