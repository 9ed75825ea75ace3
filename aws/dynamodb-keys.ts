/**
 * Listing the store table's keys, for rare maintenance (`parley slack reseal`), never on a
 * request's path: a filtered Scan of the whole table. Kept apart from DynamoStore so the functions
 * that serve requests never need `dynamodb:Scan` (examples/aws/serverless.yml does not grant it).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LIVE, markerNames, names, NOT_MARKER, type Item } from './dynamodb-item.js';
import { dynamoDbAccess } from './dynamodb-sdk.js';

export interface KeyScan {
  client?: DynamoDBClient;
  tableName: string;
  /** The store's namespace (DynamoStoreOptions.namespace): only its keys, returned without it. */
  namespace?: string;
  /** Items read per page (Scan's Limit). */
  pageSize?: number;
}

/** The keys of the live items whose key starts with `prefix` (no markers), sorted, page by page. */
export async function storeKeysStartingWith(prefix: string, options: KeyScan): Promise<string[]> {
  const dynamo = dynamoDbAccess('parley slack reseal', options.client);
  const namespace = options.namespace ?? '';
  const { ScanCommand } = dynamo.sdk.lib;
  const found: string[] = [];
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const page = await dynamo.documents.send(
        new ScanCommand({
          TableName: options.tableName,
          ProjectionExpression: '#k',
          FilterExpression: `begins_with(#k, :prefix) AND ${LIVE} AND ${NOT_MARKER}`,
          ExpressionAttributeNames: { '#k': names['#k'], '#ms': names['#ms'], ...markerNames },
          ExpressionAttributeValues: { ':prefix': namespace + prefix, ':now': Date.now() },
          ConsistentRead: true,
          ...(options.pageSize ? { Limit: options.pageSize } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of (page.Items ?? []) as Item[]) found.push(item.key.slice(namespace.length));
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    dynamo.close();
  }
  return found.sort();
}
