export { webChat, type WebChatOptions, type TranscriptEntry } from './adapter.js';
