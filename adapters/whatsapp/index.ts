export { whatsappAdapter, type WhatsAppAdapterOptions } from './adapter.js';
export { whatsappConfigFromEnv, whatsappVariables, type WhatsAppConfig, type WhatsAppOptions } from './config.js';
export { verifyTwilioSignature } from './verify.js';
export { markdownToWhatsApp } from './format.js';
export { createTwilioHttpClient, TwilioHttpClient, type TwilioHttpClientOptions } from './http-client.js';
export type { WhatsAppDetails } from './inbound.js';
