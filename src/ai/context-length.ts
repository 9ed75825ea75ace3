/**
 * What a provider's refusal says of the model's context: how many tokens the model reads in all
 * (OpenAI's, vLLM's, llama.cpp's, Ollama's, TGI's, Gemini's, Anthropic's or Mistral's words), and
 * whether it refused the output limit asked for (OPENAI_MAX_OUTPUT_TOKENS) rather than the input.
 * Plain text in, so errors.ts can use it without a cycle.
 */

/** A whole number of tokens as a refusal writes it ("4096", "128,000"); none below a plausible context. */
function tokens(text: string | undefined): number | undefined {
  const n = Number(text?.replace(/,/g, ''));
  return Number.isSafeInteger(n) && n >= 16 ? n : undefined;
}

/** Each wording that names the context length, its number the first group. */
const CONTEXT_WORDINGS = [
  /maximum context length is ([\d,]+)/i, // OpenAI, vLLM, Groq, DeepSeek
  /([\d,]+) maximum context length/i, // Mistral: "too large for model with 32768 maximum context length"
  /available context size \(([\d,]+) tokens?\)/i, // llama.cpp: "request (4476 tokens) exceeds the available context size (4096 tokens)"
  /context (?:length|window|size)(?: of| is)? \(?([\d,]+)/i, // Ollama, and servers saying it so
  /maximum number of tokens allowed \(([\d,]+)\)/i, // Gemini
  /tokens? > ([\d,]+) maximum/i, // Anthropic: "prompt is too long: 210000 tokens > 200000 maximum"
  /must be <= ([\d,]+)/i, // TGI: "`inputs` tokens + `max_new_tokens` must be <= 4096"
];

/** The context length (in tokens) a refusal's message, or its body's `n_ctx` (llama.cpp), states. */
export function statedContextLength(message: string, body?: unknown): number | undefined {
  const nCtx = typeof body === 'object' && body !== null ? (body as { n_ctx?: unknown }).n_ctx : undefined;
  if (typeof nCtx === 'number') return tokens(String(nCtx));
  for (const wording of CONTEXT_WORDINGS) {
    const found = tokens(wording.exec(message)?.[1]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The output tokens a refusal says were asked for (vLLM's, TGI's wordings). */
function askedOutput(message: string): number | undefined {
  return tokens(/is too large: ([\d,]+)/i.exec(message)?.[1]) ?? tokens(/([\d,]+) in the completion/i.exec(message)?.[1]) ?? tokens(/([\d,]+) `?max_new_tokens/i.exec(message)?.[1]);
}

/**
 * The provider refused the output limit, not the input: no request can pass, however short, until
 * OPENAI_MAX_OUTPUT_TOKENS is lowered. vLLM's "'max_tokens' … is too large: 4096. This model's
 * maximum context length is 4096 tokens" (the limit asked for leaves no room for any input: one
 * that leaves too little for this input is an input too long), OpenAI's "This model supports at
 * most 16384 completion tokens".
 */
export function outputLimitTooLarge(message: string): boolean {
  if (/supports at most [\d,]+ (completion|output) tokens/i.test(message)) return true;
  const asked = askedOutput(message);
  const context = statedContextLength(message);
  return asked !== undefined && context !== undefined && asked >= context;
}
