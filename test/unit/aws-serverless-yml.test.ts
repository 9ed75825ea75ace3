/**
 * examples/aws/serverless.yml against the code it deploys: the role grants every AWS call parley
 * makes on each table and queue (read from the sources: the SDK commands each file sends), and
 * API Gateway routes every request the example's adapters answer to the ingress function.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../../adapters/whatsapp/index.js';
import { loadConfig } from '../../src/index.js';
import { serverlessYml } from '../helpers/serverless-yml.js';

const source = (file: string) => readFileSync(new URL(`../../aws/${file}`, import.meta.url), 'utf8');

/**
 * The SDK commands a file sends (`new PutCommand(`, `new sdk.SendMessageCommand(`), with those of
 * the aws/ files it imports (DynamoTally's are in its item and shard files).
 */
function commands(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = source(file);
  const own = [...text.matchAll(/new (?:sdk\.)?(\w+)Command\(/g)].map((m) => m[1]!);
  const imported = [...text.matchAll(/from '\.\/([\w-]+)\.js'/g)].flatMap((m) => commands(`${m[1]!}.ts`, seen));
  return [...new Set([...own, ...imported])];
}

// lib-dynamodb's document commands and the DynamoDB action each one is.
const documentAction: Record<string, string> = { Put: 'PutItem', Get: 'GetItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query', Scan: 'Scan', BatchWrite: 'BatchWriteItem', BatchGet: 'BatchGetItem', TransactWrite: 'TransactWriteItems', TransactGet: 'TransactGetItems' };

/** The actions the role allows on a resource (a logical id of the yml's Resources). */
function allowed(resource: string): Set<string> {
  const actions = new Set<string>();
  for (const statement of serverlessYml().provider.iam.role.statements) {
    const resources = [statement.Resource].flat().map((r) => JSON.stringify(r));
    if (statement.Effect === 'Allow' && resources.some((r) => r.includes(`"${resource}.Arn"`))) for (const action of [statement.Action].flat()) actions.add(action);
  }
  return actions;
}

describe('examples/aws/serverless.yml', () => {
  it.each([
    ['dynamodb-log.ts', 'ConversationsTable'],
    ['dynamodb-store.ts', 'StoreTable'],
    ['dynamodb-tally.ts', 'StoreTable'],
  ])('lets the functions make every DynamoDB call of aws/%s on %s', (file, table) => {
    const used = commands(file).map((command) => `dynamodb:${documentAction[command] ?? command}`);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((action) => !allowed(table).has(action))).toEqual([]);
  });

  it.each([
    ['sqs-queue.ts', 'MessagesQueue'],
    ['sqs-dead-letters.ts', 'DeadLettersQueue'],
  ])('lets the functions make every SQS call of aws/%s on its queue', (file, queue) => {
    // The queue looks its dead-letter queue up by name and reads the attributes of both.
    const on = (command: string) => (command === 'GetQueueUrl' ? ['DeadLettersQueue'] : command === 'GetQueueAttributes' ? ['MessagesQueue', 'DeadLettersQueue'] : [queue]);
    const missing = commands(file).flatMap((command) => on(command).filter((q) => !allowed(q).has(`sqs:${command}`)).map((q) => `sqs:${command} on ${q}`));
    expect(commands(file).length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});

// Every variable of the example's platforms, Slack distributed through OAuth (its install routes).
const everyPlatform = {
  SLACK_SIGNING_SECRET: 'yml-test-signing-secret',
  SLACK_CLIENT_ID: '1234.5678',
  SLACK_CLIENT_SECRET: 'yml-test-client-secret',
  SLACK_STATE_SECRET: 'yml-test-state-secret-at-least-32-characters',
  SLACK_INSTALLATION_KEY: Buffer.alloc(32, 7).toString('base64'),
  TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  TWILIO_AUTH_TOKEN: 'yml-test-auth-token',
  TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886',
  INTERCOM_ACCESS_TOKEN: 'yml-test-access-token',
  INTERCOM_CLIENT_SECRET: 'yml-test-client-secret',
};

describe('examples/aws/serverless.yml routes', () => {
  it('sends every route the example\'s adapters serve (webhooks, Slack\'s install and OAuth redirect) and /healthz to the ingress function', () => {
    const adapters = [slackAdapter(slackConfigFromEnv(everyPlatform)!), whatsappAdapter(whatsappConfigFromEnv(everyPlatform)!), intercomAdapter(intercomConfigFromEnv(everyPlatform)!)];
    const served = adapters.flatMap((adapter) => [`POST ${adapter.path}`, ...(adapter.routes ?? []).map((route) => `${route.method} ${route.path}`)]);
    expect(served).toContain('GET /slack/install');
    const routed = serverlessYml().functions.ingress!.events.map((event) => event.httpApi);
    expect([...served, 'GET /healthz'].filter((route) => !routed.includes(route))).toEqual([]);
  });

  it('sends the operator console to the ingress function and names ADMIN_TOKEN, which turns it on', () => {
    const routed = serverlessYml().functions.ingress!.events.map((event) => event.httpApi);
    expect(routed).toEqual(expect.arrayContaining(['ANY /console', 'ANY /console/{proxy+}']));
    const yml = readFileSync(new URL('../../examples/aws/serverless.yml', import.meta.url), 'utf8');
    expect(yml).toMatch(/^\s*#?\s*ADMIN_TOKEN: \$\{ssm:\/parley\/\$\{self:provider.stage\}\/ADMIN_TOKEN\}/m);
  });

  it('names the OAuth variables a distributed Slack app needs', () => {
    const yml = readFileSync(new URL('../../examples/aws/serverless.yml', import.meta.url), 'utf8');
    for (const name of ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'SLACK_INSTALLATION_KEY']) expect(yml).toMatch(new RegExp(`^\\s*#?\\s*${name}: \\$\\{ssm:/parley/\\$\\{self:provider.stage\\}/${name}\\}`, 'm'));
  });
});

describe('examples/aws/serverless.yml names', () => {
  it('gives every table and queue a stage-suffixed name, so two stages in one account do not collide, and the log table\'s name is one parley accepts', () => {
    const yml = serverlessYml();
    const named = Object.entries(yml.resources.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table' || r.Type === 'AWS::SQS::Queue');
    expect(named.length).toBe(4);
    for (const [id, resource] of named) expect(String(resource.Properties.TableName ?? resource.Properties.QueueName), id).toContain('${self:provider.stage}');
    expect(yml.provider.environment.CONVERSATION_LOG_TABLE).toEqual({ Ref: 'ConversationsTable' });
    const deployed = String(yml.resources.Resources.ConversationsTable!.Properties.TableName).replace('${self:provider.stage}', 'staging');
    expect(loadConfig({ CONVERSATION_LOG_TABLE: deployed }).dynamodb.conversationLogTable).toBe(deployed);
  });

  it('turns TTL on expires_at on for both tables, as parley aws setup does (the log\'s rows carry it with CONVERSATION_LOG_TTL_SECONDS)', () => {
    const resources = serverlessYml().resources.Resources;
    for (const id of ['StoreTable', 'ConversationsTable']) expect(resources[id]!.Properties.TimeToLiveSpecification, id).toEqual({ AttributeName: 'expires_at', Enabled: true });
  });
});
