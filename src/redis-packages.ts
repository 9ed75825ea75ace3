/**
 * ioredis and bullmq, loaded the first time parley runs on Redis rather than when it is imported:
 * a bot on the in-memory defaults, or on SQS and DynamoDB in a Lambda function, never loads them,
 * and a bundle of it (esbuild, as examples/aws builds one) leaves them out. Types come from the
 * usual imports; only the values load late. Both are parley's own dependencies, so they are
 * there in a normal install; a bundle that left them out says which to install.
 */
import type * as IoRedis from 'ioredis';
import type * as BullMq from 'bullmq';
import { requireOptional } from './optional-dependency.js';

const NEEDED_BY = 'parley on Redis (REDIS_URL)';

let ioredis: typeof IoRedis | undefined;
let bullmq: typeof BullMq | undefined;

export function ioredisPackage(): typeof IoRedis {
  return (ioredis ??= requireOptional<typeof IoRedis>('ioredis', NEEDED_BY, ['ioredis', 'bullmq']));
}

export function bullmqPackage(): typeof BullMq {
  return (bullmq ??= requireOptional<typeof BullMq>('bullmq', NEEDED_BY, ['ioredis', 'bullmq']));
}
