/**
 * The web chat's files answer a matching If-None-Match with a 304, reading the header in time
 * linear in its length. It was split on the pattern `\s*,\s*`, which backtracks over every run of
 * spaces: quadratic, 0.1 s for Node's 16 KB of header, minutes for a megabyte (an embedding app's
 * server may take more). The hostile case is well past where the old reading took the test's 20 s.
 */
import { describe, expect, it } from 'vitest';
import { embedRoutes } from '../../adapters/web/embed.js';
import type { HttpRequest, HttpResponse } from '../../src/adapter.js';

const widget = embedRoutes({ allowedOrigins: () => [] }).find((route) => route.path === '/web/widget.js')!;

function get(headers: Record<string, string> = {}): Promise<HttpResponse> {
  const request: HttpRequest = { method: 'GET', url: new URL('http://127.0.0.1/web/widget.js'), headers, body: Buffer.alloc(0) };
  return widget.handle(request);
}

describe('the web chat files and If-None-Match', () => {
  it('answers 304 when the list names the ETag, however it is spaced, and 200 otherwise', async () => {
    const etag = (await get()).headers!.etag!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    for (const header of [etag, `"other", ${etag}`, `"other",${etag}`, `"a" ,  ${etag} , "b"`, `${etag},"other"`]) {
      expect((await get({ 'if-none-match': header })).status, header).toBe(304);
    }
    for (const header of ['"other"', `W/${etag}`, `${etag.slice(0, -1)}x"`, `"a" ${etag}`, '*', '']) {
      const response = await get({ 'if-none-match': header });
      expect(response.status, header).toBe(200);
      expect(response.body).toBeDefined();
    }
  });

  it('reads a hostile header of 400,000 spaces at once: 200, the file sent', async () => {
    const etag = (await get()).headers!.etag!;
    expect((await get({ 'if-none-match': `"a"${' '.repeat(400_000)}"b"` })).status).toBe(200);
    expect((await get({ 'if-none-match': `"a",${' '.repeat(400_000)}${etag}` })).status).toBe(304);
  });
});
