/**
 * The bot both functions build, once per instance (on cold start): the platforms that are
 * configured, the queue on SQS (SQS_QUEUE_URL), the store and the conversation log on DynamoDB
 * (DYNAMODB_TABLE_PREFIX, CONVERSATION_LOG_TABLE). Secrets arrive as environment variables that
 * serverless.yml resolves from SSM Parameter Store at deploy time.
 *
 * In your project, import from the package instead of the repository paths:
 *   import { createBot, loadConfig } from 'parley';
 *   import { dynamoDbFromConfig, sqsQueueFromConfig } from 'parley/aws';
 *   import { slackAdapter, slackConfigFromEnv } from 'parley/adapters/slack';
 */
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { dynamoDbFromConfig, sqsQueueFromConfig } from '../../aws/index.js';
import { createBot, loadConfig, type Adapter, type Bot } from '../../src/index.js';

export function lambdaBot(env: Record<string, string | undefined> = process.env): Bot {
  const config = loadConfig(env);
  // Only the configured platforms: an SDK is loaded when its adapter is built, never before.
  const adapters: Adapter[] = [];
  const slack = slackConfigFromEnv(env);
  if (slack) adapters.push(slackAdapter(slack));
  const whatsapp = whatsappConfigFromEnv(env);
  if (whatsapp) adapters.push(whatsappAdapter(whatsapp));
  const intercom = intercomConfigFromEnv(env);
  if (intercom) adapters.push(intercomAdapter(intercom));
  return createBot({ config, adapters, queue: sqsQueueFromConfig(config), ...dynamoDbFromConfig(config) });
}
