export { slackAdapter, ParleyReceiver, type SlackAdapterOptions } from './adapter.js';
export { slackConfigFromEnv, slackVariables, type SlackConfig, type SlackOptions } from './config.js';
export { verifySlackSignature } from './verify.js';
export { markdownToMrkdwn } from './mrkdwn.js';
/** A Bolt `logger` that writes to parley's log (JSON lines, LOG_LEVEL): `new App({ logger: slackSdkLogger(() => bot?.logger) })`. */
export { slackSdkLogger } from './sdk-logger.js';
