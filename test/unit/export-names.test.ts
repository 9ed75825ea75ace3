/**
 * Name stability: every name each entry point exported at 9ee6816 (the first published API) is
 * still exported, so a rename cannot drop a name again (TwilioHttpClient did). Values are checked
 * here; types by the type check (`npx tsc --noEmit -p .`), which fails on a missing type name.
 */
import { describe, expect, it } from 'vitest';
import type { Bot, BotOptions, ConversationRef, InboundMessage, Reply, Delivery, Turn, Attachment, Adapter, AdapterContext, HttpRequest, HttpResponse, Received, Route, Indicator, SendOptions, MessageHandler, MessageContext, HandlerSettings, Config, Variable, Store, JobQueue, DeadLetter, Job, JobData, Limiter, AiClient, AiRequest, AiResult, NodeMiddleware, FetchHandler } from '../../src/index.js';
import type { SlackAdapterOptions, SlackConfig } from '../../adapters/slack/index.js';
import type { WhatsAppAdapterOptions, WhatsAppConfig, WhatsAppDetails } from '../../adapters/whatsapp/index.js';
import type { IntercomAdapterOptions, IntercomConfig } from '../../adapters/intercom/index.js';
import type { WebChatOptions, TranscriptEntry } from '../../adapters/web/index.js';

/** Each entry point and the values it exported at 9ee6816. */
const VALUES: Record<string, { load: () => Promise<Record<string, unknown>>; names: string[] }> = {
  'parley': { load: () => import('../../src/index.js'), names: ['createBot', 'HttpError', 'PermanentError', 'RetryAfterError', 'answerWithAi', 'loadConfig', 'parseEnv', 'schemas', 'ConfigError', 'variables', 'MemoryStore', 'RedisStore', 'MemoryQueue', 'BullQueue', 'createMemoryLimiter', 'createAiClient', 'NoProviderAiClient', 'createLogger', 'json', 'jsonError', 'isLoopbackHost'] },
  'parley/adapters/slack': { load: () => import('../../adapters/slack/index.js'), names: ['slackAdapter', 'ParleyReceiver', 'slackConfigFromEnv', 'slackVariables', 'verifySlackSignature', 'markdownToMrkdwn'] },
  'parley/adapters/whatsapp': { load: () => import('../../adapters/whatsapp/index.js'), names: ['whatsappAdapter', 'whatsappConfigFromEnv', 'whatsappVariables', 'verifyTwilioSignature', 'markdownToWhatsApp', 'TwilioHttpClient'] },
  'parley/adapters/intercom': { load: () => import('../../adapters/intercom/index.js'), names: ['intercomAdapter', 'intercomConfigFromEnv', 'intercomVariables', 'DEFAULT_HANDOFF_PATTERNS', 'verifyIntercomSignature', 'markdownToIntercomHtml', 'htmlToText'] },
  'parley/adapters/web': { load: () => import('../../adapters/web/index.js'), names: ['webChat'] },
};

// The types of 9ee6816, used so that the imports above are checked (and not elided unread).
export type TypesOf9ee6816 = [Bot, BotOptions, ConversationRef, InboundMessage, Reply, Delivery, Turn, Attachment, Adapter, AdapterContext, HttpRequest, HttpResponse, Received, Route, Indicator, SendOptions, MessageHandler, MessageContext, HandlerSettings, Config, Variable, Store, JobQueue<unknown>, DeadLetter<unknown>, Job<unknown>, JobData, Limiter, AiClient, AiRequest, AiResult, NodeMiddleware, FetchHandler, SlackAdapterOptions, SlackConfig, WhatsAppAdapterOptions, WhatsAppConfig, WhatsAppDetails, IntercomAdapterOptions, IntercomConfig, WebChatOptions, TranscriptEntry];

describe('exported names', () => {
  it.each(Object.entries(VALUES))('%s still exports every value it exported at 9ee6816', async (_entry, { load, names }) => {
    const module = await load();
    expect(names.filter((name) => module[name] === undefined)).toEqual([]);
  });
});

describe('deprecated names', () => {
  it('new TwilioHttpClient(apiUrl) still makes the client createTwilioHttpClient makes', async () => {
    const { TwilioHttpClient, createTwilioHttpClient } = await import('../../adapters/whatsapp/index.js');
    expect(new TwilioHttpClient('http://127.0.0.1:1').constructor).toBe(createTwilioHttpClient('http://127.0.0.1:1').constructor);
  });
});
