/**
 * `parley slack reseal`: finish a SLACK_INSTALLATION_KEY rotation. Every stored Slack installation
 * is read; one sealed with an older listed key is sealed again with the first, so the old key can
 * be dropped without waiting for each workspace's next event. Installations no listed key opens
 * are named: their workspaces have to install the app again (or the old key be listed again).
 */
import type { Config } from '../src/index.js';
import { RedisStore } from '../src/index.js';
import { connectRedis, whenReady, type RedisClient } from '../src/store/redis-connection.js';
import { slackConfigFromEnv } from '../adapters/slack/index.js';
import { installationKeys, ParleyInstallationStore } from '../adapters/slack/installation-store.js';

/** Where every installation's storage key starts (installationKeys.installation). */
const INSTALLATION_PREFIX = installationKeys.installation('', '').replace(/-:-$/, '');
/** A record being written while it is read is read again, a few times. */
const ATTEMPTS = 3;

export async function slackReseal(config: Config, env: Record<string, string | undefined> = process.env): Promise<number> {
  const keys = slackConfigFromEnv(env)?.oauth?.installationKeys;
  if (!keys) {
    console.error('parley slack reseal: set SLACK_INSTALLATION_KEY (and the other OAuth settings): there are installations only with OAuth.');
    return 2;
  }
  if (!config.redisUrl) {
    console.error('parley slack reseal: reads the installations in Redis (REDIS_URL). In memory they belong to the running process; in DynamoDB each is sealed again when its workspace is next heard from.');
    return 2;
  }
  const redis = connectRedis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: true });
  try {
    redis.on('error', () => undefined); // told once below, not on every reconnect
    redis.connect().catch(() => undefined);
    if (!(await whenReady(redis, 5000).then(() => true, () => false))) {
      console.error('parley slack reseal: cannot reach Redis (REDIS_URL) within 5 s. Check that it is up and the setting is right (parley check tells more).');
      return 1;
    }
    // Store keys start with "parley:" already; another prefix is put in front of them (as the bot does).
    const namespace = config.redisPrefix === 'parley' ? '' : `${config.redisPrefix}:`;
    const installations = new ParleyInstallationStore({ store: new RedisStore(redis, namespace), keys });
    const counts = { resealed: 0, current: 0, busy: 0 };
    const unreadable: string[] = [];
    for (const key of await storedInstallations(redis, namespace)) {
      let outcome: Awaited<ReturnType<ParleyInstallationStore['resealStored']>> = 'busy';
      try {
        for (let attempt = 0; attempt < ATTEMPTS && outcome === 'busy'; attempt++) outcome = await installations.resealStored(key);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'slack_installation_unreadable') throw error;
        const sealedWith = (error as { sealedWith?: string }).sealedWith;
        unreadable.push(`${describeKey(key)}${sealedWith ? ` (sealed with key ${sealedWith})` : ''}`);
        continue;
      }
      if (outcome !== 'missing') counts[outcome]++;
    }
    console.log(`re-sealed ${counts.resealed}, already current ${counts.current}, unreadable ${unreadable.length}${counts.busy ? `, busy (being written; run again) ${counts.busy}` : ''}`);
    for (const line of unreadable) console.log(`unreadable: ${line}: no key in SLACK_INSTALLATION_KEY opens it; the workspace has to install the app again (or the old key be listed again)`);
    return unreadable.length === 0 && counts.busy === 0 ? 0 : 1;
  } finally {
    redis.disconnect();
  }
}

/** The storage keys of every installation (without the namespace), from every primary of a Cluster. */
async function storedInstallations(redis: RedisClient, namespace: string): Promise<string[]> {
  const nodes = 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${namespace}${INSTALLATION_PREFIX}*`, 'COUNT', 500);
      cursor = next;
      for (const key of batch) if (!key.endsWith(':write-lock')) found.add(key.slice(namespace.length));
    } while (cursor !== '0');
  }
  return [...found].sort();
}

/** "team T1", "team T1 in enterprise E1" or "enterprise E1 (org-wide)", from `parley:slack:installation:<enterprise|->:<team|->`. */
function describeKey(key: string): string {
  const [enterprise, team] = key.slice(INSTALLATION_PREFIX.length).split(':');
  if (!team || team === '-') return `enterprise ${enterprise} (org-wide)`;
  return `team ${team}${enterprise && enterprise !== '-' ? ` in enterprise ${enterprise}` : ''}`;
}
