/**
 * The Slack SDKs are optional peer dependencies (see src/optional-dependency.ts). slackAdapter()
 * checks that all three are installed when it is called, so a missing one is reported at once,
 * but loads each only when it is first used: the Web API client for replies, Bolt when its App is
 * first needed, Socket Mode with an app-level token. A function that only acknowledges events (a
 * Lambda behind the Events API) never loads Bolt's tree (express, the OAuth helpers, Socket Mode).
 */
import type * as Bolt from '@slack/bolt';
import type * as OAuth from '@slack/oauth';
import type * as SocketMode from '@slack/socket-mode';
import type * as WebApi from '@slack/web-api';
import { requireInstalled, requireOptional } from 'parley/adapter-kit';

/** What `npm install` needs for the Slack adapter (Bolt, and the two SDKs parley calls directly). */
export const SLACK_PACKAGES = ['@slack/bolt', '@slack/web-api', '@slack/socket-mode'] as const;

/** Throws MissingDependencyError naming the install command unless all three are installed; loads none. */
export function requireSlackPackages(neededBy = 'slackAdapter()'): void {
  requireInstalled(SLACK_PACKAGES, neededBy);
}

export function slackBolt(neededBy = 'slackAdapter()'): typeof Bolt {
  return requireOptional<typeof Bolt>('@slack/bolt', neededBy, SLACK_PACKAGES);
}

export function slackWebApi(neededBy = 'slackAdapter()'): typeof WebApi {
  return requireOptional<typeof WebApi>('@slack/web-api', neededBy, SLACK_PACKAGES);
}

export function slackSocketMode(neededBy = 'slackAdapter() with SLACK_APP_TOKEN'): typeof SocketMode {
  return requireOptional<typeof SocketMode>('@slack/socket-mode', neededBy, SLACK_PACKAGES);
}

/** Slack's OAuth helpers (the install flow, many workspaces); loaded only when OAuth is configured. */
export function slackOAuthSdk(neededBy = 'slackAdapter() with OAuth (SLACK_CLIENT_ID)'): typeof OAuth {
  return requireOptional<typeof OAuth>('@slack/oauth', neededBy, [...SLACK_PACKAGES, '@slack/oauth']);
}
