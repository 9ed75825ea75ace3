/**
 * Which Slack installation an event or a conversation belongs to, read as Bolt reads it, and how
 * WorkspaceTokens names it in its cache and its log lines (team and enterprise ids only).
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import type { SlackDetails } from './events.js';

export type InstallationLookup = InstallationQuery<boolean>;

/**
 * An InstallationStore; `findInstallation` (undefined when missing), when it has one, tells "not
 * installed" from a failure; `replaceInstallation`, when it has one, stores a refreshed installation
 * only over the one it replaces (false: an uninstall or a reinstall came meanwhile, and wins; else
 * what it stored, or true, and WorkspaceTokens reads the store again);
 * `deleteInstallationUninstalledAt`, when it has one, deletes for an uninstall event only an
 * installation older than the event, in one step (ParleyInstallationStore's, under its write lock);
 * `dropRevokedUserToken` likewise drops only a revoked user token.
 */
export type WorkspaceInstallations = InstallationStore & {
  findInstallation?(query: InstallationLookup): Promise<Installation<'v1' | 'v2', boolean> | undefined>;
  replaceInstallation?(installation: Installation<'v1' | 'v2', boolean>, spentRefreshToken: string | undefined, spentUserRefreshToken?: string): Promise<boolean | Installation<'v1' | 'v2', boolean>>;
  deleteInstallationUninstalledAt?(query: InstallationLookup, eventTime: number): Promise<{ deleted: true } | { deleted: false; installedAt: number }>;
  /** `tokens_revoked` naming user tokens, when it has one: the installing user's token dropped if named (ParleyInstallationStore's). */
  dropRevokedUserToken?(query: InstallationLookup, userIds: readonly string[], eventTime: number | undefined): Promise<{ dropped: boolean; installedAt?: number }>;
};

/** What of an Events API delivery says which installation it is for. */
export interface EventBody {
  type?: unknown;
  team_id?: unknown;
  enterprise_id?: unknown;
  authorizations?: unknown;
  is_enterprise_install?: unknown;
  /** When Slack says the event happened: epoch seconds. */
  event_time?: unknown;
  event?: { type?: unknown; tokens?: { bot?: unknown; oauth?: unknown } };
}

/** The installation an Events API delivery belongs to, read as Bolt reads it (authorizations[0]). */
export function lookupOfEvent(body: EventBody): InstallationLookup | undefined {
  const first: unknown = Array.isArray(body.authorizations) ? body.authorizations[0] : undefined;
  const auth = (typeof first === 'object' && first !== null ? first : {}) as { team_id?: unknown; enterprise_id?: unknown; is_enterprise_install?: unknown };
  const teamId = text(auth.team_id) ?? text(body.team_id);
  const enterpriseId = first ? text(auth.enterprise_id) : text(body.enterprise_id);
  // Bolt falls back to the body's own flag: Slack sends app_uninstalled without authorizations. One that
  // names an org and no workspace (an org-wide uninstall) can only be about the org's installation, flag or not.
  const isEnterpriseInstall = first ? auth.is_enterprise_install === true : body.is_enterprise_install === true || (!teamId && enterpriseId !== undefined);
  if (isEnterpriseInstall ? !enterpriseId : !teamId) return undefined;
  return { teamId, enterpriseId, isEnterpriseInstall } as InstallationLookup;
}

/**
 * Whether a slash command or an interaction names an installation, read as Bolt's authorize reads
 * it (buildSource): a team (the view's installing team, else `team.id`, else `user.team_id`), or
 * for an org-wide install its enterprise. With many workspaces one that names none can never be
 * answered: it is a payload that does not fit (parse.ts), not a listener's failure.
 */
export function namesAnInstallation(body: Record<string, unknown>): boolean {
  const flag = body.is_enterprise_install;
  const orgWide = typeof flag === 'string' ? flag === 'true' : Boolean(flag);
  if (body.command !== undefined) return (orgWide ? text(body.enterprise_id) : text(body.team_id)) !== undefined;
  const [team, user, view, enterprise] = [body.team, body.user, body.view, body.enterprise].map(fields);
  const teamId = text(view?.app_installed_team_id) ?? (team ? text(team.id) : text(user?.team_id));
  const enterpriseId = enterprise ? text(enterprise.id) : text(team?.enterprise_id);
  return (orgWide ? enterpriseId : teamId) !== undefined;
}

/** The installation a conversation's replies are posted with. */
export function lookupFor(details: SlackDetails): InstallationLookup {
  return { teamId: details.team, enterpriseId: details.enterprise, isEnterpriseInstall: details.enterpriseInstall === true } as InstallationLookup;
}

/** The installation a stored Installation answers for. */
export function lookupOfInstallation(installation: Installation): InstallationLookup {
  return { teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, isEnterpriseInstall: installation.isEnterpriseInstall === true } as InstallationLookup;
}

export function cacheKey(query: InstallationLookup): string {
  return query.isEnterpriseInstall ? `${query.enterpriseId ?? '-'}:-` : `${query.enterpriseId ?? '-'}:${query.teamId ?? '-'}`;
}

export function ids(query: InstallationLookup): Record<string, unknown> {
  return { teamId: query.teamId, enterpriseId: query.enterpriseId, isEnterpriseInstall: query.isEnterpriseInstall };
}

export function describe(query: InstallationLookup): string {
  return query.isEnterpriseInstall ? `Enterprise Grid org ${query.enterpriseId}` : `workspace ${query.teamId}`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function fields(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}
