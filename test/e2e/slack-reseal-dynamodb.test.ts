/**
 * `parley slack reseal` as an operator runs it (the real CLI in its own process) on the DynamoDB
 * store (DYNAMODB_TABLE_PREFIX) of the moto server: installations sealed with the old key are
 * sealed with the new one, quiet workspaces included, so the new key alone reads them all; one
 * sealed with a key not listed is named. With REDIS_URL set too, the store is still DynamoDB's.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Installation } from '@slack/oauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import { keyId } from '../../adapters/slack/installation-crypto.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { useMoto } from '../helpers/moto.js';
import { installation } from '../helpers/slack-installations.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix } from '../integration/redis-helpers.js';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const OLD = randomBytes(32);
const NEW = randomBytes(32);
const GONE = randomBytes(32);
const TABLE_PREFIX = 'reseal';
const team = (id: string) => ({ teamId: id, enterpriseId: undefined, isEnterpriseInstall: false });
const moto = useMoto();
let client: DynamoDBClient;
let store: DynamoStore;

beforeAll(async () => {
  client = new DynamoDBClient({});
  await createStoreTable(client, storeTableName(TABLE_PREFIX));
  store = new DynamoStore({ tableName: storeTableName(TABLE_PREFIX), client });
});
afterAll(() => client?.destroy());

/** Run `parley slack reseal` with the bot's settings on the moto server's DynamoDB (and `extra`); its exit code and output. */
async function reseal(extra: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const env = {
    ...testEnv,
    ...moto().env,
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DYNAMODB_TABLE_PREFIX: TABLE_PREFIX,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_CLIENT_ID: '1111.2222',
    SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
    SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
    SLACK_INSTALLATION_KEY: `${NEW.toString('base64')},${OLD.toString('base64')}`,
    ...extra,
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, parleyArgs('slack', 'reseal'), { cwd: root, env, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('parley slack reseal on DynamoDB (moto)', () => {
  it('re-seals every installation on the old key with the new one, counts them, and names the one no listed key opens', async () => {
    const sealedWith = (keys: Buffer[]) => new ParleyInstallationStore({ store, keys });
    const orgWide = { ...installation('-'), team: undefined, enterprise: { id: 'E0ORG', name: 'Org' }, isEnterpriseInstall: true } as unknown as Installation<'v2', true>;
    const quiet = ['T0OLD1', 'T0OLD2', 'T0OLD3'];
    for (const id of quiet) await sealedWith([OLD]).storeInstallation(installation(id));
    await sealedWith([OLD]).storeInstallation(orgWide);
    await sealedWith([NEW]).storeInstallation(installation('T0NEW'));
    await sealedWith([GONE]).storeInstallation(installation('T0GONE'));
    // Something else of the bot's in the same table, and a lock item beside an installation: neither is counted.
    await store.set('parley:history:slack:C1', 'not an installation');
    await store.acquireLock('parley:slack:installation:-:T0NEW:write-lock', 60_000);
    const newKeyOnly = sealedWith([NEW]);
    await expect(newKeyOnly.fetchInstallation(team('T0OLD1'))).rejects.toMatchObject({ code: 'slack_installation_unreadable' });

    const first = await reseal();
    expect(first.out).toContain('re-sealed 4, already current 1, unreadable 1');
    expect(first.out).toContain(`unreadable: team T0GONE (sealed with key ${keyId(GONE)})`);
    expect(first.out).toMatch(/install the app again/);
    expect(first.code).toBe(1);
    // Sealed with the new key alone now: the old key can go.
    for (const id of quiet) expect((await newKeyOnly.fetchInstallation(team(id))).bot!.token).toBe(`xoxb-${id}-secret-token`);
    expect((await newKeyOnly.fetchInstallation({ teamId: undefined, enterpriseId: 'E0ORG', isEnterpriseInstall: true })).enterprise?.id).toBe('E0ORG');
    expect((await newKeyOnly.fetchInstallation(team('T0NEW'))).bot!.token).toBe('xoxb-T0NEW-secret-token');

    // DYNAMODB_TABLE_PREFIX wins over REDIS_URL for the store, here as in `parley serve`.
    await sealedWith([NEW, OLD]).deleteInstallation(team('T0GONE'));
    const second = await reseal({ REDIS_URL, REDIS_PREFIX: uniquePrefix() });
    expect(second.out).toContain('re-sealed 0, already current 5, unreadable 0');
    expect(second.code).toBe(0);
  });

  it('names the table and `parley aws setup` when the store table is not there (exit 1)', async () => {
    const run = await reseal({ DYNAMODB_TABLE_PREFIX: 'reseal-missing' });
    expect(run.out).toContain('cannot read the DynamoDB table reseal-missing-store');
    expect(run.out).toContain('parley aws setup');
    expect(run.code).toBe(1);
  });
});
