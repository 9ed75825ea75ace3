import type OpenAI from 'openai';
import { wellFormed } from '../text/well-formed.js';
import type { AiRequest } from './types.js';

type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;

/**
 * The chat messages for a request: system prompt (if any), the history window, then the new message.
 * Text is sent well-formed: a lone UTF-16 surrogate (half an emoji, as a web page or a platform may
 * send it) is JSON no strict provider reads (a 400 on every try), so it goes as U+FFFD.
 */
export function buildMessages(systemPrompt: string, request: AiRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (systemPrompt.trim() !== '') messages.push({ role: 'system', content: wellFormed(systemPrompt) }); // given in code, it may be ill-formed too
  for (const turn of request.history) {
    // An empty message is refused (400) by Anthropic-compatible endpoints: an empty turn (stored by an older version) is left out.
    if (turn.text.trim() === '') continue;
    messages.push(
      turn.role === 'assistant' ? { role: 'assistant', content: wellFormed(turn.text) } : { role: 'user', content: wellFormed(turn.text) },
    );
  }
  const images = request.imageUrls ?? [];
  if (images.length === 0) {
    messages.push({ role: 'user', content: wellFormed(request.text) });
  } else {
    // An image sent alone has no text: an empty text part is refused (400) by Anthropic-compatible servers.
    messages.push({
      role: 'user',
      content: [
        ...(request.text.trim() === '' ? [] : [{ type: 'text' as const, text: wellFormed(request.text) }]),
        ...images.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
      ],
    });
  }
  return messages;
}

/** The output limit's field: OpenAI's newer models reject max_tokens; many compatible servers only know max_tokens. */
export function outputLimit({ baseURL, maxOutputTokens }: { baseURL?: string | undefined; maxOutputTokens: number }) {
  return baseURL ? { max_tokens: maxOutputTokens } : { max_completion_tokens: maxOutputTokens };
}
