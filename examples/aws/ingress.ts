/**
 * The ingress function: API Gateway (HTTP API) → verify the platform's signature → dedupe →
 * enqueue on SQS → 200, in milliseconds. No AI call happens here, so Slack's 3-second
 * acknowledgement holds however slow the model is.
 */
import { lambdaHandler } from '../../aws/index.js';
import { lambdaBot } from './bot.js';

export const handler = lambdaHandler(lambdaBot());
