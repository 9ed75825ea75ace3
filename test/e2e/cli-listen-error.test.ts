/**
 * `parley serve` that cannot open its port, as an operator meets it: a port another process holds,
 * or a HOST that is no address here. One line naming PORT or HOST and the fix, exit 1, no stack.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;

async function parleyServe(env: Record<string, string>) {
  const child = spawn(process.execPath, parleyArgs('serve'), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', WEB_CHAT: 'false', ...env },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, err };
}

describe('parley serve that cannot listen', () => {
  let holder: Server;
  let busyPort: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    busyPort = (holder.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it('a busy PORT: one line naming it and the fix, exit 1', async () => {
    const { code, err } = await parleyServe({ PORT: String(busyPort), HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(err.trim()).toBe(`parley serve: PORT=${busyPort} is already in use on HOST=127.0.0.1: another process listens there. Fix: stop it, or set PORT to a free TCP port, e.g. PORT=3000.`);
  }, 30_000);

  it('a HOST that is no address: one line naming it and the fix, exit 1', async () => {
    const { code, err } = await parleyServe({ PORT: String(busyPort + 1), HOST: '300.1.1.1' });
    expect(code).toBe(1);
    expect(err.trim()).toMatch(/^parley serve: HOST=300\.1\.1\.1 is not an address or a name this machine resolves\. Fix: set HOST to /);
    expect(err).not.toMatch(/\n\s+at |getaddrinfo/);
  }, 30_000);
});
