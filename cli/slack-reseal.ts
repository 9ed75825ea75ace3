/**
 * `parley slack reseal`: finish a SLACK_INSTALLATION_KEY rotation. Every stored Slack installation
 * is read; one sealed with an older listed key is sealed again with the first, so the old key can
 * be dropped without waiting for each workspace's next event. Installations no listed key opens
 * are named: their workspaces have to install the app again (or the old key be listed again).
 * The installations are read where the bot keeps them: DynamoDB or Redis (slack-installation-source.ts).
 */
import type { Config } from '../src/index.js';
import { slackConfigFromEnv } from '../adapters/slack/index.js';
import { keyId } from '../adapters/slack/installation-crypto.js';
import { installationKeys, ParleyInstallationStore } from '../adapters/slack/installation-store.js';
import { openInstallations } from './slack-installation-source.js';

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
  const opened = await openInstallations(config, INSTALLATION_PREFIX);
  if ('problem' in opened) {
    console.error(`parley slack reseal: ${opened.problem}`);
    return opened.code;
  }
  const { source } = opened;
  try {
    const installations = new ParleyInstallationStore({ store: source.store, keys });
    const counts = { resealed: 0, current: 0, busy: 0 };
    const unreadable: { line: string; listed: boolean; sealedWith?: string }[] = [];
    for (const key of await source.keys()) {
      let outcome: Awaited<ReturnType<ParleyInstallationStore['resealStored']>> = 'busy';
      try {
        for (let attempt = 0; attempt < ATTEMPTS && outcome === 'busy'; attempt++) outcome = await installations.resealStored(key);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'slack_installation_unreadable') throw error;
        const { sealedWith, keyListed } = error as { sealedWith?: string; keyListed?: boolean };
        const how = keyListed ? ` (sealed with key ${sealedWith}, which is listed: the record is damaged, or was copied from another entry)` : sealedWith ? ` (sealed with key ${sealedWith})` : '';
        unreadable.push({ line: `${describeKey(key)}${how}`, listed: keyListed === true, sealedWith });
        continue;
      }
      if (outcome !== 'missing') counts[outcome]++;
    }
    console.log(`re-sealed ${counts.resealed}, already current ${counts.current}, unreadable ${unreadable.length}${counts.busy ? `, busy (being written; run again) ${counts.busy}` : ''}`);
    // Not one opened, and none by a listed key: more likely a wrong key than every workspace to install again.
    if (counts.resealed + counts.current + counts.busy === 0 && unreadable.length > 0 && !unreadable.some((u) => u.listed)) {
      const sealedWith = [...new Set(unreadable.map((u) => u.sealedWith ?? 'unknown'))].join(', ');
      console.error(
        `parley slack reseal: no key in SLACK_INSTALLATION_KEY opens any of the ${unreadable.length} installations (sealed with ${sealedWith}; the keys given are ${keys.map(keyId).join(', ')}): is SLACK_INSTALLATION_KEY the one the bot runs with? Nothing was changed. Only if the key they were sealed with is gone for good do their workspaces have to install the app again.`,
      );
      return 1;
    }
    for (const { line, listed } of unreadable) console.log(`unreadable: ${line}: no key in SLACK_INSTALLATION_KEY opens it; the workspace has to install the app again${listed ? '' : ' (or the old key be listed again)'}`);
    return unreadable.length === 0 && counts.busy === 0 ? 0 : 1;
  } finally {
    await source.close();
  }
}

/** "team T1", "team T1 in enterprise E1" or "enterprise E1 (org-wide)", from `parley:slack:installation:<enterprise|->:<team|->`. */
function describeKey(key: string): string {
  const [enterprise, team] = key.slice(INSTALLATION_PREFIX.length).split(':');
  if (!team || team === '-') return `enterprise ${enterprise} (org-wide)`;
  return `team ${team}${enterprise && enterprise !== '-' ? ` in enterprise ${enterprise}` : ''}`;
}
