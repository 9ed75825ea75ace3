// `webAdapter` matches the other factories (slackAdapter, whatsappAdapter, intercomAdapter); `webChat` stays.
export { webChat, webChat as webAdapter, type WebChatOptions, type TranscriptEntry } from './adapter.js';
