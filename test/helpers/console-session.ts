/** Signing in and out of the console over HTTP as its pages do, and reading its live overview. */
import { expect } from 'vitest';

export async function signIn(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

export const signOut = (url: string, cookie: string) => fetch(`${url}/console/logout`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin' }, redirect: 'manual' });

/** Open the live overview and read up to its first overview; the reader of the rest. */
export async function openLive(url: string, cookie: string, signal: AbortSignal): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const res = await fetch(`${url}/console/api/events`, { headers: { cookie }, signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  expect((await readUntil(reader, (text) => text.includes('event: overview\n'))).ended).toBe(false);
  return reader;
}

/** The stream's text until `done` holds of it, or until it ends. */
export async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<{ text: string; ended: boolean }> {
  const decoder = new TextDecoder();
  let text = '';
  while (!done(text)) {
    const next = await reader.read();
    if (next.done) return { text, ended: true };
    text += decoder.decode(next.value, { stream: true });
  }
  return { text, ended: false };
}
