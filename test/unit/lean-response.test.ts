/** LeanResponse reads as undici's Response does, for the same bytes: each case is checked against a real Response. */
import { describe, expect, it } from 'vitest';
import { LeanResponse } from '../../src/http/lean-response.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const lean = (text: string | null, status = 200) =>
  new LeanResponse(text === null ? null : bytes(text), status, 'OK', new Headers({ 'content-type': 'application/json' }), 'http://127.0.0.1/api');
const real = (text: string | null, status = 200) => new Response(text === null ? null : bytes(text), { status, statusText: 'OK', headers: { 'content-type': 'application/json' } });

describe('LeanResponse', () => {
  it('answers status, ok, headers and url', () => {
    const response = lean('{}', 404);
    expect(response.status).toBe(404);
    expect(response.ok).toBe(false);
    expect(lean('{}', 299).ok).toBe(true);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.url).toBe('http://127.0.0.1/api');
  });

  it('decodes text and JSON as Response does, a byte-order mark and non-ASCII text included', async () => {
    for (const text of ['{"ok":true,"text":"héllo ✓"}', '\uFEFF{"a":1}']) {
      expect(await lean(text).text()).toBe(await real(text).text());
      expect(await lean(text).json()).toEqual(await real(text).json());
    }
    expect(new Uint8Array(await lean('abc').arrayBuffer())).toEqual(new Uint8Array(await real('abc').arrayBuffer()));
    expect(await lean('abc').bytes()).toEqual(new Uint8Array([97, 98, 99]));
  });

  it('rejects malformed JSON with a SyntaxError, as Response does', async () => {
    await expect(real('not json').json()).rejects.toThrow(SyntaxError);
    await expect(lean('not json').json()).rejects.toThrow(SyntaxError);
  });

  it('reads a body once: a second read rejects with a TypeError and bodyUsed is set', async () => {
    const response = lean('{"a":1}');
    expect(response.bodyUsed).toBe(false);
    await response.json();
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(() => response.clone()).toThrow(TypeError);
  });

  it('gives the body as a stream when asked, and then reads from that stream', async () => {
    const response = lean('streamed');
    const reader = response.body!.getReader();
    const chunk = await reader.read();
    expect(new TextDecoder().decode(chunk.value)).toBe('streamed');
    reader.releaseLock();
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
  });

  it('has no body for a bodiless answer (204)', async () => {
    const response = lean(null, 204);
    expect(response.body).toBeNull();
    expect(await response.text()).toBe('');
  });

  it('clones: both copies read the same bytes', async () => {
    const response = lean('{"a":1}');
    const copy = response.clone();
    expect(await copy.json()).toEqual({ a: 1 });
    expect(await response.json()).toEqual({ a: 1 });
  });

  it('gives a blob', async () => {
    expect(await (await lean('abc').blob()).text()).toBe('abc');
  });
});
