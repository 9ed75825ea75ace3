import { awsConfigured, setupAws, type SetupStep } from '../aws/index.js';
import { MissingDependencyError, type Config } from '../src/index.js';
import { awsErrorText, awsEndpoint as endpoint } from './check-aws.js';

/**
 * `parley aws setup`: create the configured DynamoDB tables and SQS queues, and only those, where
 * the AWS SDK points (AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS for an emulator). Idempotent.
 */
export async function awsSetup(config: Config): Promise<number> {
  if (!awsConfigured(config)) {
    console.error('parley aws setup: nothing to create. Set DYNAMODB_TABLE_PREFIX (the store and the conversation log), CONVERSATION_LOG_TABLE (the conversation log only) or SQS_QUEUE_URL (the queue).');
    return 2;
  }
  // Only the services it will reach: the endpoint of one that is not configured says nothing.
  const dynamodb = config.dynamodb.tablePrefix || config.dynamodb.conversationLogTable ? [`DynamoDB at ${endpoint('DYNAMODB')}`] : [];
  const sqs = config.sqsQueueUrl ? [`SQS at ${endpoint('SQS')}`] : [];
  console.log(`parley aws setup: ${[...dynamodb, ...sqs].join(', ')}`);
  try {
    await setupAws(config, (step) => console.log(line(step)));
    return 0;
  } catch (error) {
    if (error instanceof MissingDependencyError) console.error(`parley aws setup: ${error.message}`);
    else console.error(`parley aws setup failed: ${awsErrorText(error)}`);
    return 1;
  }
}

function line(step: SetupStep): string {
  const warning = step.warning ? `\nwarn     ${step.kind} ${step.name}: ${step.warning}` : '';
  return `${step.outcome === 'exists' ? 'exists ' : step.outcome}  ${step.kind} ${step.name}: ${step.purpose}${step.detail ? `; ${step.detail}` : ''}${warning}`;
}
