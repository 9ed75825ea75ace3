// `webAdapter` matches the other factories (slackAdapter, whatsappAdapter, intercomAdapter); `webChat` stays.
export { webChat, webChat as webAdapter, type WebChatOptions, type WebChatAdapter, type TranscriptEntry, type Caller } from './adapter.js';
