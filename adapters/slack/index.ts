export { slackAdapter, ParleyReceiver, type SlackAdapterOptions } from './adapter.js';
export { slackConfigFromEnv, slackVariables, type SlackConfig, type SlackOptions } from './config.js';
export { verifySlackSignature } from './verify.js';
export { markdownToMrkdwn } from './mrkdwn.js';
