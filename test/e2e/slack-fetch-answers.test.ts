/**
 * What parley's Web API fetch (web-api-options.ts) lets through: it refuses a 2xx that is not the
 * Web API's JSON (a proxy's page), but only for the Web API's own methods, and only when the body
 * is not JSON. files.uploadV2 posts the file to the upload URL Slack gives (files.slack.com), which
 * answers text ("OK - <bytes>"); a fake or gateway may label Slack's JSON otherwise. Slack faked
 * over HTTP on the loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../adapters/slack/web-api-options.js';

describe("parley's Web API fetch", () => {
  let server: Server;
  let origin: string;
  const uploads: string[] = [];
  /** How chat.postMessage answers: its body and content type (none: no header at all). */
  let postAnswer: { body: string; type?: string };
  beforeEach(async () => {
    uploads.length = 0;
    postAnswer = { body: JSON.stringify({ ok: true, channel: 'C1', ts: '1700000000.000100' }), type: 'application/json; charset=utf-8' };
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
        if (req.url === '/api/files.getUploadURLExternal') return json({ ok: true, upload_url: `${origin}/upload/v1/ABC123`, file_id: 'F1' });
        if (req.url === '/upload/v1/ABC123') {
          uploads.push(Buffer.concat(chunks).toString());
          // What files.slack.com answers a file taken.
          return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`OK - ${Buffer.concat(chunks).length}`);
        }
        if (req.url === '/api/files.completeUploadExternal') return json({ ok: true, files: [{ id: 'F1', title: 'notes.txt' }] });
        if (req.url === '/api/chat.postMessage') return void res.writeHead(200, postAnswer.type ? { 'content-type': postAnswer.type } : {}).end(postAnswer.body);
        res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("lets files.uploadV2 upload: the upload URL's plain-text answer is not the Web API's", async () => {
    const client = new WebClient('xoxb-upload', webClientOptions(`${origin}/api/`));
    const result = await client.filesUploadV2({ channel_id: 'C1', content: 'hello', filename: 'notes.txt' });
    expect(result.ok).toBe(true);
    expect(uploads).toHaveLength(1);
  });

  it.each([
    ['text/plain', 'text/plain; charset=utf-8'],
    ['no content type', undefined],
  ])("takes the Web API's JSON labelled %s (a fake, a gateway) as the SDK always did", async (_what, type) => {
    postAnswer.type = type;
    const client = new WebClient('xoxb-label', webClientOptions(`${origin}/api/`));
    const result = await client.chat.postMessage({ channel: 'C1', text: 'hi' });
    expect(result.ts).toBe('1700000000.000100');
  });

  it("still refuses a page that is not JSON, whatever it is labelled, without the page's text", async () => {
    postAnswer = { body: '<html><body>Sign in to the corporate proxy</body></html>', type: 'text/plain' };
    const client = new WebClient('xoxb-page', webClientOptions(`${origin}/api/`));
    const failed = await client.chat.postMessage({ channel: 'C1', text: 'hi' }).then(
      () => undefined,
      (error: unknown) => error as { code?: string; original?: { code?: string; message?: string } },
    );
    expect(failed?.original?.code).toBe('PARLEY_NOT_SLACK_JSON');
    expect(failed?.original?.message).not.toContain('corporate proxy');
  });
});
