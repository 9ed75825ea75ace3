/**
 * The Slack SDKs are optional peer dependencies, loaded when slackAdapter() is first called (see
 * src/optional-dependency.ts), so importing this adapter costs nothing in a web-only app.
 */
import type * as Bolt from '@slack/bolt';
import type * as OAuth from '@slack/oauth';
import type * as SocketMode from '@slack/socket-mode';
import type * as WebApi from '@slack/web-api';
import { requireOptional } from 'parley/adapter-kit';

/** What `npm install` needs for the Slack adapter (Bolt, and the two SDKs parley calls directly). */
export const SLACK_PACKAGES = ['@slack/bolt', '@slack/web-api', '@slack/socket-mode'] as const;

/** The three Slack SDKs; throws MissingDependencyError naming the install command if one is missing. */
export function slackSdk(neededBy = 'slackAdapter()'): { bolt: typeof Bolt; webApi: typeof WebApi; socketMode: typeof SocketMode } {
  return {
    bolt: requireOptional<typeof Bolt>('@slack/bolt', neededBy, SLACK_PACKAGES),
    webApi: requireOptional<typeof WebApi>('@slack/web-api', neededBy, SLACK_PACKAGES),
    socketMode: requireOptional<typeof SocketMode>('@slack/socket-mode', neededBy, SLACK_PACKAGES),
  };
}

/** Slack's OAuth helpers (the install flow, many workspaces); loaded only when OAuth is configured. */
export function slackOAuthSdk(neededBy = 'slackAdapter() with OAuth (SLACK_CLIENT_ID)'): typeof OAuth {
  return requireOptional<typeof OAuth>('@slack/oauth', neededBy, [...SLACK_PACKAGES, '@slack/oauth']);
}
