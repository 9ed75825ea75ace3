/**
 * `parley simulate slack --team T…`: with OAuth a server answers only workspaces installed there,
 * so the simulated event can name one; without the flag it comes from T0SIMULATE as before.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readArgs } from '../../cli/args.js';
import { simulateSlack } from '../../cli/simulate.js';
import { loadConfig } from '../../src/index.js';

const bodies: { team_id?: string; authorizations?: { team_id?: string }[] }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    bodies.push(JSON.parse(body) as (typeof bodies)[number]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('parley simulate slack --team', () => {
  it('signs the event as from the named workspace, and from T0SIMULATE without it', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    // A Slack it cannot reach (port 9): no bot user to mention; the team is what is checked.
    const config = loadConfig({ PORT: '0', METRICS_PORT: 'off', SLACK_SIGNING_SECRET: 'abcdefgh1234', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
    try {
      const parsed = readArgs(['simulate', 'slack', 'hi', '--team', 'T0INSTALLED'], 'usage');
      expect('values' in parsed && parsed.values.team).toBe('T0INSTALLED');
      expect(await simulateSlack(config, { text: 'hi', url, team: 'T0INSTALLED' })).toBe(0);
      expect(await simulateSlack(config, { text: 'hi', url })).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(bodies.map((b) => [b.team_id, b.authorizations?.[0]?.team_id])).toEqual([
      ['T0INSTALLED', 'T0INSTALLED'],
      ['T0SIMULATE', 'T0SIMULATE'],
    ]);
  });
});
