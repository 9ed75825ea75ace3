/**
 * Installing the Slack app in a workspace (OAuth v2), as two plain routes over HttpRequest /
 * HttpResponse — so the flow works the same behind Node's server, `bot.fetch` and the Lambda
 * handler (InstallProvider's handleInstallPath / handleCallback take Node's objects only).
 *
 * - GET /slack/install: an "Add to Slack" page linking to https://slack.com/oauth/v2/authorize
 *   (with a redirect_uri only when one is configured; else Slack uses the app's registered one);
 *   with SLACK_DIRECT_INSTALL, a 302 straight there (Bolt's `directInstall`, for the Marketplace).
 *   The `state` is @slack/oauth's signed, 10-minute state (ClearStateStore, SLACK_STATE_SECRET)
 *   and is also set in an HttpOnly cookie, so only the browser that started the flow can finish it.
 * - GET /slack/oauth_redirect?code&state: the state must equal the cookie and verify; otherwise a
 *   400 and nothing is stored (with SLACK_ORG_INSTALLS_WITHOUT_STATE, a redirect with no state at all is taken
 *   when its code is an org-wide install: an Enterprise Grid admin's, from the org's app management page,
 *   which Slack starts without our page and so without a state). The code is exchanged with oauth.v2.access through SLACK_API_URL,
 *   the installation (with its refresh token and expiry when token rotation is on) goes to the
 *   InstallationStore, and the browser gets a success page. Its cookie then marks that state used, so
 *   the same redirect opened again (a reload, Back then Forward) says so instead of "Invalid state".
 *
 * Log lines carry team and enterprise ids and error codes: never a code, a state or a token.
 */
import { createHash } from 'node:crypto';
import type { Installation, InstallationStore, InstallURLOptions, OAuthV2Response } from '@slack/oauth';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { escapeHtml, publicPathOf, readCookies, safeEqual, type HttpRequest, type HttpResponse, type Route } from 'parley/adapter-kit';
import type { SlackOAuthConfig } from './config.js';
import { stamped } from './install-time.js';
import { slackOAuthSdk } from './sdk.js';
import { slackSdkLogger } from './sdk-logger.js';

export const INSTALL_PATH = '/slack/install';
export const REDIRECT_PATH = '/slack/oauth_redirect';
export const STATE_COOKIE = 'slack_oauth_state';
/** Why a redirect with a code and no state may be an org admin's install, and what lets it in. */
const NO_STATE_HINT = " (an org-wide install an Enterprise Grid admin starts from the org's app management page carries none: set SLACK_ORG_INSTALLS_WITHOUT_STATE=on to accept those)";
/** How long the browser has between the install page and Slack's redirect back. */
const STATE_SECONDS = 600;
/** How long a finished installation's redirect, opened again (reload, Back then Forward), is told as done. */
const DONE_SECONDS = 3600;
/** The cookie's value once its state has installed: never equal to a state, so it can install nothing again. */
const doneMark = (state: string) => `done.${createHash('sha256').update(state).digest('base64url')}`;

export interface InstallRoutesOptions {
  oauth: SlackOAuthConfig;
  /** Where the installations go (ParleyInstallationStore by default). */
  installations: Pick<InstallationStore, 'storeInstallation'>;
  /** A Web API client pointed at SLACK_API_URL; the exchange and auth.test pass their own credentials. */
  client: WebClient;
  logger(): Logger;
  /** Called once an installation is stored (e.g. to drop a cached, older one). */
  installed?(installation: Installation): void | Promise<void>;
}

/** The two install routes. */
export function slackInstallRoutes(options: InstallRoutesOptions): Route[] {
  const { InstallProvider, ClearStateStore } = slackOAuthSdk();
  const states = new ClearStateStore(options.oauth.stateSecret, STATE_SECONDS);
  // Only for generateInstallUrl: Slack's own way of writing the authorize URL.
  const provider = new InstallProvider({
    clientId: options.oauth.clientId,
    clientSecret: options.oauth.clientSecret,
    stateStore: states,
    installationStore: { storeInstallation: async () => {}, fetchInstallation: async () => Promise.reject(new Error('not used')) },
    logger: slackSdkLogger(options.logger),
  });

  async function install(request: HttpRequest): Promise<HttpResponse> {
    // No redirect URI configured (SLACK_REDIRECT_URI, PUBLIC_URL): none is sent, as Bolt does, and
    // Slack uses the app's registered one. One rebuilt from the request could be refused (http://
    // behind a TLS-terminating proxy).
    const redirectUri = options.oauth.redirectUri;
    const installOptions: InstallURLOptions = { scopes: options.oauth.scopes, ...(redirectUri ? { redirectUri } : {}) };
    const state = await states.generateStateParam(installOptions, new Date());
    const url = await provider.generateInstallUrl(installOptions, true, state);
    // As Bolt's directInstall: the state cookie as for the page, and the browser sent on to Slack at once.
    if (options.oauth.directInstall) {
      return { status: 302, headers: { location: url, 'set-cookie': stateCookie(state, STATE_SECONDS, request), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, body: '' };
    }
    return page(200, 'Add parley to Slack', `<p><a href="${escapeHtml(url)}"><img alt="Add to Slack" height="40" width="139" src="https://platform.slack-edge.com/img/add_to_slack.png" srcset="https://platform.slack-edge.com/img/add_to_slack.png 1x, https://platform.slack-edge.com/img/add_to_slack@2x.png 2x"></a></p>`, {
      'set-cookie': stateCookie(state, STATE_SECONDS, request),
    });
  }

  async function redirect(request: HttpRequest): Promise<HttpResponse> {
    const clear = { 'set-cookie': stateCookie('', 0, request) };
    const params = request.url.searchParams;
    const error = params.get('error');
    if (error) {
      options.logger().info({ error: error.slice(0, 100) }, 'Slack installation not completed');
      return page(error === 'access_denied' ? 200 : 400, 'Not installed', `<p>${error === 'access_denied' ? 'The installation was cancelled.' : 'Slack did not complete the installation.'} Nothing was installed. <a href="${escapeHtml(publicPathOf(request, INSTALL_PATH))}">Start again</a>.</p>`, clear);
    }
    const code = params.get('code');
    const state = params.get('state');
    // Every cookie of the name: one a sibling subdomain planted on a longer path comes first, and would refuse every install.
    const cookies = readCookies(request.headers.cookie, STATE_COOKIE);
    const refuse = (reason: string) => {
      options.logger().warn({ reason, remoteAddress: request.remoteAddress }, 'Slack installation refused: invalid state');
      return page(400, 'Invalid state', `<p>Invalid state: this link is not from an installation started in this browser, or it has expired. Nothing was installed. <a href="${escapeHtml(publicPathOf(request, INSTALL_PATH))}">Start again</a>.</p>`, clear);
    };
    // No state at all: an org-wide install an Enterprise Grid admin started from the org's app management page
    // (Slack's own flow, no install page of ours), taken only when allowed and only if the code is an org-wide one.
    const stateless = !state && options.oauth.orgInstallsWithoutState === true;
    let installOptions: InstallURLOptions = { scopes: options.oauth.scopes };
    if (!state && !stateless) return refuse(`no state parameter${code ? NO_STATE_HINT : ''}`);
    if (state) {
      // This browser finished this installation already: the success page reloaded, or Back then Forward.
      if (!cookies.some((cookie) => safeEqual(cookie, state)) && cookies.some((cookie) => safeEqual(cookie, doneMark(state)))) {
        options.logger().info('Slack installation redirect opened again after it installed; nothing done');
        return page(200, 'Already installed', `<p>This installation is complete: parley was installed with this link, which installs once. Nothing more to do; you can close this page.</p>`, {});
      }
      if (cookies.length === 0) return refuse('no state cookie (the installation was started in another browser, or the cookie expired)');
      if (!cookies.some((cookie) => safeEqual(cookie, state))) return refuse('the state does not match the cookie');
      try {
        installOptions = await states.verifyStateParam(new Date(), state);
      } catch (e) {
        return refuse(/expired/i.test((e as Error).message) ? 'the state has expired' : 'the state signature does not verify');
      }
    }
    if (!code) return page(400, 'Not installed', `<p>Slack's answer had no code. Nothing was installed. <a href="${escapeHtml(publicPathOf(request, INSTALL_PATH))}">Start again</a>.</p>`, clear);

    let installation: Installation<'v2', boolean>;
    try {
      // Stateless: no redirect_uri, as Slack's own flow sent none (one it was not given is refused).
      installation = await exchange(code, stateless ? undefined : installOptions.redirectUri);
    } catch (e) {
      const slackError = (e as { data?: { error?: unknown } }).data?.error;
      options.logger().warn({ error: typeof slackError === 'string' ? slackError : (e as { code?: unknown }).code }, 'Slack installation failed: the code exchange (oauth.v2.access) did not succeed');
      const refused = typeof slackError === 'string';
      return page(refused ? 400 : 502, 'Not installed', `<p>${refused ? `Slack refused the installation (${escapeHtml(slackError)}).` : 'Slack could not be reached.'} Nothing was installed. <a href="${escapeHtml(publicPathOf(request, INSTALL_PATH))}">Start again</a>.</p>`, clear);
    }
    // The code is spent either way; a workspace install must come through our install page, with its state.
    if (stateless && !installation.isEnterpriseInstall) return refuse('no state parameter, and the code is not an org-wide install');
    if (!installation.bot) {
      // Only a user's token (the authorize link's `scope` swapped for `user_scope`, which any member may grant):
      // stored, it would replace the workspace's installation and its bot token, and the bot would answer no more.
      options.logger().warn({ teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, userId: installation.user.id }, 'Slack installation refused: Slack granted no bot token (user scopes only); the stored installation is kept');
      return page(400, 'Not installed', `<p>Slack granted no bot token, only a user's, so parley could not answer there. Nothing was stored; an installation made before is kept. <a href="${escapeHtml(publicPathOf(request, INSTALL_PATH))}">Start again</a> and allow the app's bot permissions.</p>`, clear);
    }
    try {
      // With the time it was installed: an uninstall event older than it must not delete it (uninstall.ts).
      await options.installations.storeInstallation(stamped(installation));
    } catch (e) {
      options.logger().error({ teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, err: { message: (e as Error).message } }, 'Slack installation could not be stored');
      return page(503, 'Not installed', `<p>The installation could not be saved. Nothing was installed. <a href="${escapeHtml(publicPathOf(request, INSTALL_PATH))}">Try again</a> in a minute.</p>`, clear);
    }
    await options.installed?.(installation);
    const where = installation.isEnterpriseInstall ? installation.enterprise?.name ?? installation.enterprise?.id : installation.team?.name ?? installation.team?.id;
    options.logger().info(
      { teamId: installation.team?.id, enterpriseId: installation.enterprise?.id, isEnterpriseInstall: Boolean(installation.isEnterpriseInstall), tokenRotation: installation.bot?.expiresAt !== undefined, ...(stateless ? { withoutState: true } : {}) },
      'Slack app installed',
    );
    const done = state ? { 'set-cookie': stateCookie(doneMark(state), DONE_SECONDS, request) } : clear;
    return page(200, 'Installed', `<p>parley is installed in ${escapeHtml(where ?? 'your workspace')}.${nextStep(installation)}</p>`, done);
  }

  /** oauth.v2.access, and the installation it describes (as InstallProvider builds it). */
  async function exchange(code: string, redirectUri: string | undefined): Promise<Installation<'v2', boolean>> {
    const response = (await options.client.oauth.v2.access({
      client_id: options.oauth.clientId,
      client_secret: options.oauth.clientSecret,
      code,
      ...(redirectUri ? { redirect_uri: redirectUri } : {}),
    })) as unknown as OAuthV2Response;
    const now = Math.floor(Date.now() / 1000);
    const installation: Installation<'v2', boolean> = {
      team: response.team ?? undefined,
      enterprise: response.enterprise ?? undefined,
      user: { id: response.authed_user.id, token: response.authed_user.access_token, scopes: response.authed_user.scope?.split(',') },
      tokenType: response.token_type,
      isEnterpriseInstall: response.is_enterprise_install,
      appId: response.app_id,
      authVersion: 'v2',
    };
    if (response.authed_user.refresh_token && response.authed_user.expires_in !== undefined) {
      installation.user.refreshToken = response.authed_user.refresh_token;
      installation.user.expiresAt = now + response.authed_user.expires_in;
    }
    if (response.access_token && response.scope !== undefined && response.bot_user_id) {
      const auth = await options.client.auth.test({ token: response.access_token });
      installation.bot = { token: response.access_token, scopes: response.scope.split(','), userId: response.bot_user_id, id: auth.bot_id ?? '' };
      if (response.refresh_token && response.expires_in !== undefined) {
        installation.bot.refreshToken = response.refresh_token;
        installation.bot.expiresAt = now + response.expires_in;
      }
      if (response.is_enterprise_install && auth.url) installation.enterpriseUrl = auth.url;
    }
    if (response.incoming_webhook) {
      const hook = response.incoming_webhook;
      installation.incomingWebhook = { url: hook.url, channel: hook.channel, channelId: hook.channel_id, configurationUrl: hook.configuration_url };
    }
    if (installation.team === undefined && !installation.isEnterpriseInstall) throw Object.assign(new Error('oauth.v2.access answered without a team'), { code: 'no_team' });
    return installation;
  }

  return [
    { method: 'GET', path: INSTALL_PATH, handle: install },
    { method: 'GET', path: REDIRECT_PATH, handle: redirect },
  ];
}

/**
 * The success page's next step, as Bolt's default page: open the app in its workspace; after an
 * org-wide install, choose the org's workspaces that get it (Slack's admin page for the app).
 */
function nextStep(installation: Installation<'v2', boolean>): string {
  const { appId, enterpriseUrl } = installation;
  if (!appId) return '';
  if (installation.isEnterpriseInstall) {
    if (!enterpriseUrl || !/^https:\/\//.test(enterpriseUrl)) return '';
    const add = `${enterpriseUrl.endsWith('/') ? enterpriseUrl : `${enterpriseUrl}/`}manage/organization/apps/profile/${encodeURIComponent(appId)}/workspaces/add`;
    return ` Next, <a href="${escapeHtml(add)}">choose the organization's workspaces to add it to</a>.`;
  }
  const team = installation.team?.id;
  return team ? ` <a href="https://slack.com/app_redirect?app=${encodeURIComponent(appId)}&amp;team=${encodeURIComponent(team)}">Open it in Slack</a>.` : '';
}

function stateCookie(value: string, maxAgeSeconds: number, request: HttpRequest): string {
  const secure = request.url.protocol === 'https:' ? '; Secure' : '';
  return `${STATE_COOKIE}=${value}; Path=${publicPathOf(request, '/slack')}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}

function page(status: number, title: string, body: string, headers: Record<string, string>): HttpResponse {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; img-src https://platform.slack-edge.com; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      // As parley's other pages: browsers without CSP frame-ancestors cannot frame the "Add to Slack" link either.
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
    body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>\n`,
  };
}
