import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/index.js';
import { parseRedisUrl, queuePrefix } from '../../src/store/index.js';
import { collect, variables } from '../../src/config.js';
import { slackVariables } from '../../adapters/slack/config.js';

describe('Redis URLs', () => {
  it('reads one server, with or without TLS and credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ kind: 'single', tls: false, nodes: [{ host: '127.0.0.1', port: 6379 }] });
    expect(parseRedisUrl('rediss://user:p%40ss@cache.example.com:6380/2')).toMatchObject({ kind: 'single', tls: true, username: 'user', password: 'p@ss' });
  });

  it('reads Sentinel: the sentinels and the master group name', () => {
    expect(parseRedisUrl('redis+sentinel://:secret@s1:26379,s2:26380/primary')).toEqual({
      kind: 'sentinel',
      nodes: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'primary',
      username: undefined,
      password: 'secret',
      tls: false,
    });
    expect(parseRedisUrl('redis+sentinel://s1').nodes).toEqual([{ host: 's1', port: 26379 }]);
  });

  it('reads Cluster seed nodes, and gives BullMQ a hash-tagged prefix there only', () => {
    expect(parseRedisUrl('redis+cluster://n1:7000,n2:7001')).toMatchObject({ kind: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }] });
    expect(queuePrefix('redis+cluster://n1:7000', 'parley')).toBe('{parley}');
    expect(queuePrefix('redis://n1:6379', 'parley')).toBe('parley');
  });

  it('refuses anything else at start-up, naming REDIS_URL and hiding credentials', () => {
    expect(() => parseRedisUrl('http://example.com')).toThrow(/not a Redis URL/);
    expect(() => loadConfig({ REDIS_URL: 'memcached://user:hunter2@host:11211' })).toThrow(/^REDIS_URL="memcached:\/\/<hidden>@host:11211" is invalid/);
  });
});

describe('a Redis URL that cannot be read', () => {
  it.each([
    ['redis://:s3cret#passREDIS@127.0.0.1:6379', 'redis://<hidden>@127.0.0.1:6379'],
    ['redis://user:s3cretpassREDIS@127.0.0.1:notaport', 'redis://<hidden>@127.0.0.1:notaport'],
    ['redis://:s3cret/passREDIS@127.0.0.1:6379', 'redis://<hidden>@127.0.0.1:6379'],
    ['redis://:s3cret%zzpassREDIS@127.0.0.1:6379', 'redis://<hidden>@127.0.0.1:6379'],
    ['redis+cluster://:s3cretpassREDIS@n1:7000,n2:x', 'redis+cluster://<hidden>@n1:7000,n2:x'],
  ])('%s: a configuration error asking for percent-encoding, the password hidden', (url, shown) => {
    let message = '';
    try {
      loadConfig({ REDIS_URL: url });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`REDIS_URL="${shown}" is invalid: expected a host, a port from 1 to 65535, and special characters`);
    expect(message).not.toContain('passREDIS');
    expect(() => parseRedisUrl(url)).toThrow(/^a Redis URL that cannot be read/);
  });

  it.each([
    ['REDIS_URL', 'redis://:pa#ss,TOPSECRET@127.0.0.1:6379', 'redis://<hidden>@127.0.0.1:6379'],
    ['REDIS_URL', 'redis://:my pass TOPSECRET@127.0.0.1:99999', 'redis://<hidden>@127.0.0.1:99999'],
    ['REDIS_URL', 'redis://:a@b,c TOP#SECRET@127.0.0.1:6379', 'redis://<hidden>@127.0.0.1:6379'],
    ['SLACK_REDIRECT_URI', 'https://u:p,wTOPSECRET@h x', 'https://<hidden>@h x'],
    ['WEB_ALLOWED_ORIGINS', 'https://u:p/TOPSECRET@h', 'https://<hidden>@h'],
  ])('%s=%s: the password hidden whatever it holds (a comma, a space, #, @, /)', (name, url, shown) => {
    const { problems } = collect({ ...variables, ...slackVariables }, { [name]: url });
    expect(problems.join('\n')).toContain(`${name}="${shown}" is invalid`);
    expect(problems.join('\n')).not.toMatch(/TOP|SECRET|pa#ss|my pass|p,w/);
  });

  it('a percent-encoded password reads', () => {
    expect(parseRedisUrl('redis://:s3cret%23pass%2F%40@127.0.0.1:6379')).toMatchObject({ password: 's3cret#pass/@' });
  });
});
