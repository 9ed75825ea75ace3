/**
 * `parley check` against a TLS-only Redis (rediss://) whose certificate a private CA signed, with a
 * password holding the characters a URL must percent-encode. Without the CA, the FAIL line says
 * why (the certificate) and what to set (NODE_EXTRA_CA_CERTS), where it said only "Connection is
 * closed."; with it, the check passes. The CA and the server's certificate are made with openssl.
 * The wrong scheme (redis:// for the TLS port, rediss:// for a plain one) is named with the fix, and
 * the bot's own start-up warning gives the same hints as the check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parleyArgs } from '../helpers/cli.js';
import { freePort, startParley, startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const root = new URL('../..', import.meta.url).pathname;
const PASSWORD = 'SECRET@pw:/#%x';

function check(env: Record<string, string>) {
  return spawnSync(process.execPath, parleyArgs('check'), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', METRICS_PORT: 'off', ...env },
    encoding: 'utf8',
    timeout: 40_000,
  });
}

/** A CA, and a certificate it signs for localhost and 127.0.0.1. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=parley-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') };
}

describe('parley check against a TLS Redis', () => {
  let redis: PrivateRedis;
  let url: string;
  let ca: string;

  beforeAll(async () => {
    const made = certificates(mkdtempSync(join(tmpdir(), 'parley-tls-')));
    ca = made.ca;
    const tlsPort = await freePort();
    // TLS only: the plain port is closed, so a check that passes went over TLS.
    redis = await startPrivateRedis(['--appendonly', 'no', '--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', made.cert, '--tls-key-file', made.key, '--tls-ca-cert-file', made.ca, '--tls-auth-clients', 'no', '--requirepass', PASSWORD]);
    url = `rediss://:${encodeURIComponent(PASSWORD)}@localhost:${tlsPort}`;
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('without the CA: a FAIL line naming the certificate and NODE_EXTRA_CA_CERTS, no password', () => {
    const run = check({ REDIS_URL: url });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FAIL {2}Redis: cannot reach localhost:\d+ \(REDIS_URL\): self-signed certificate in certificate chain .*NODE_EXTRA_CA_CERTS/m);
    expect(run.stdout + run.stderr).not.toContain('SECRET');
  });

  it('with the CA in NODE_EXTRA_CA_CERTS: reached over TLS, the encoded password taken', () => {
    const run = check({ REDIS_URL: url, NODE_EXTRA_CA_CERTS: ca });
    expect(run.stdout).toMatch(/^ok {4}Redis: reached/m);
    expect(run.stdout + run.stderr).not.toContain('SECRET');
  });

  it('the wrong scheme: redis:// to the TLS port, rediss:// to a plain one, each FAIL line naming the other', async () => {
    const tlsPort = new URL(url).port;
    const plain = check({ REDIS_URL: `redis://:${encodeURIComponent(PASSWORD)}@localhost:${tlsPort}`, NODE_EXTRA_CA_CERTS: ca });
    expect(plain.status).toBe(1);
    expect(plain.stdout).toMatch(/^FAIL {2}Redis: cannot reach localhost:\d+ \(REDIS_URL\): .*\(if that port takes only TLS, use rediss:\/\/\)$/m);
    const other = await startPrivateRedis(['--appendonly', 'no']);
    try {
      const tls = check({ REDIS_URL: `rediss://127.0.0.1:${other.port}` });
      expect(tls.status).toBe(1);
      expect(tls.stdout).toMatch(/^FAIL {2}Redis: cannot reach 127\.0\.0\.1:\d+ \(REDIS_URL\): .*ETIMEDOUT \(if that port is a plain one, use redis:\/\/: a plain Redis never answers TLS's handshake\)$/m);
    } finally {
      await other.stop();
    }
    expect(plain.stdout + plain.stderr).not.toContain('SECRET');
  }, 60_000);

  it('the bot\'s start-up warning names NODE_EXTRA_CA_CERTS too, without the password', async () => {
    const bot = await startParley(['serve'], { REDIS_URL: url, METRICS_PORT: 'off' });
    try {
      await until(() => /Redis unreachable at localhost:\d+ \(REDIS_URL\); retrying in the background \(its TLS certificate is signed by a CA Node does not know: give its CA certificate in NODE_EXTRA_CA_CERTS/.test(bot.logs()), 'the start-up warning with its hint');
      expect(bot.logs()).not.toContain('SECRET@');
      expect(bot.logs()).not.toContain(encodeURIComponent(PASSWORD));
    } finally {
      await bot.stop();
    }
  }, 60_000);
});
