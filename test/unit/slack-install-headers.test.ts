/**
 * The Slack install pages (GET /slack/install, GET /slack/oauth_redirect) carry the same framing and
 * sniffing headers as parley's other HTML pages (the console, the chat page): X-Frame-Options for
 * browsers without CSP frame-ancestors, and nosniff.
 */
import { randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { slackInstallRoutes } from '../../adapters/slack/install.js';
import type { HttpRequest } from '../../src/adapter.js';

const routes = slackInstallRoutes({
  oauth: { clientId: '123.456', clientSecret: 'client-secret', stateSecret: randomBytes(32).toString('hex'), installationKeys: [randomBytes(32)], scopes: ['chat:write'] },
  installations: { storeInstallation: async () => {} },
  client: new WebClient(undefined, { slackApiUrl: 'http://127.0.0.1:9/api/' }),
  logger: () => pino({ level: 'silent' }),
});

function get(path: string): HttpRequest {
  return { method: 'GET', url: new URL(`http://localhost${path}`), headers: {}, body: Buffer.alloc(0) };
}

describe('Slack install pages', () => {
  it.each(['/slack/install', '/slack/oauth_redirect?error=access_denied', '/slack/oauth_redirect?code=x&state=forged'])('%s may not be framed nor sniffed', async (path) => {
    const route = routes.find((r) => r.path === new URL(`http://localhost${path}`).pathname)!;
    const answer = await route.handle(get(path));
    expect(answer.headers?.['content-type']).toMatch(/^text\/html/);
    expect(answer.headers?.['x-frame-options']).toBe('DENY');
    expect(answer.headers?.['x-content-type-options']).toBe('nosniff');
  });
});
