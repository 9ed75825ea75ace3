/**
 * What parley's Twilio HTTP client (http-client.ts) lets through besides a send: it refuses a 2xx
 * that is not Twilio's JSON (a proxy's page), but a 204 No Content is Twilio's own answer to a
 * delete (a message, a media item) and has no body by definition. The client is public
 * (createTwilioHttpClient, the adapter's `client`), so a developer's own calls go through it.
 * Twilio faked over HTTP on the loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioHttpClient } from '../../adapters/whatsapp/index.js';
import { ACCOUNT_SID, AUTH_TOKEN } from '../helpers/twilio-webhooks.js';

describe("parley's Twilio HTTP client", () => {
  let server: Server;
  let url: string;
  const deleted: string[] = [];
  beforeEach(async () => {
    deleted.length = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'DELETE') {
          deleted.push(req.url ?? '');
          return void res.writeHead(204).end();
        }
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 20404, message: 'not found', status: 404 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("takes a delete's 204 No Content as done", async () => {
    const client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: createTwilioHttpClient(url), autoRetry: false });
    await expect(client.messages('SM0123456789abcdef0123456789abcdef').remove()).resolves.toBe(true);
    expect(deleted).toEqual([`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/SM0123456789abcdef0123456789abcdef.json`]);
  });
});
