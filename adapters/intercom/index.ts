export { intercomAdapter, type IntercomAdapterOptions } from './adapter.js';
export { intercomConfigFromEnv, intercomVariables, DEFAULT_HANDOFF_PATTERNS, type IntercomConfig, type IntercomOptions } from './config.js';
export { verifyIntercomSignature } from './verify.js';
export { markdownToIntercomHtml } from './markdown-html.js';
export { htmlToText } from './html-text.js';
