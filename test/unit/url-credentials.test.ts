/**
 * hideUrlCredentials (the adapter kit's, used on log lines): each URL's user and password hidden,
 * whatever the password holds, and nothing else — not the text after the URL, not an e-mail address
 * beside it. Configuration errors use hideValueCredentials (below).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hideUrlCredentials } from '../../src/adapter-kit.js';
import { collect, variables } from '../../src/config.js';

describe('hideUrlCredentials', () => {
  it.each([
    // a URL, then an e-mail address: only the URL's credentials
    ['redis://user:pw@host:6379 owner ops@example.com', 'redis://<hidden>@host:6379 owner ops@example.com'],
    ['redis://user:pw@redis.internal/0 (owner: ops@example.com).', 'redis://<hidden>@redis.internal/0 (owner: ops@example.com).'],
    ['https://u:p@hooks.example.com/x, cc <dev@example.org>, ops@example.com', 'https://<hidden>@hooks.example.com/x, cc <dev@example.org>, ops@example.com'],
    // no credentials: nothing hidden
    ['https://example.com/path owner ops@example.com', 'https://example.com/path owner ops@example.com'],
    ['http://localhost:8080 owner ops@example.com', 'http://localhost:8080 owner ops@example.com'],
    ['// a comment by ops@example.com', '// a comment by ops@example.com'],
    ['mailto:ops@example.com and https://example.com', 'mailto:ops@example.com and https://example.com'],
    // several URLs: each its own
    ['redis://a:p1@h1:1 and redis://b:p2@h2.example:2/0', 'redis://<hidden>@h1:1 and redis://<hidden>@h2.example:2/0'],
    ['redis+sentinel://:pw@h1:26379,h2:26379/mymaster', 'redis+sentinel://<hidden>@h1:26379,h2:26379/mymaster'],
    // whatever the password holds
    ['redis://:p@ss@127.0.0.1:6379', 'redis://<hidden>@127.0.0.1:6379'],
    ['redis://:pa ss@host.example owner ops@example.com', 'redis://<hidden>@host.example owner ops@example.com'],
    ['redis://u:p@ss word@db.internal:6379 owner ops@example.com', 'redis://<hidden>@db.internal:6379 owner ops@example.com'],
    ['redis://u:p/x@y@host:1', 'redis://<hidden>@host:1'],
    ['https://ops@example.com:pw@host.example/x', 'https://<hidden>@host.example/x'],
    ['at http://x:y@other.example/z', 'at http://<hidden>@other.example/z'],
    ['redis://<hidden>@host:6379', 'redis://<hidden>@host:6379'],
    // a password holding another URL's start (`x://` after a comma, =, ( or a quote) is still this URL's
    ['redis://u:pa,http://x@host:6379', 'redis://<hidden>@host:6379'],
    ['redis://:s3cr3t=ftp://x@db.example.com:6379/0 owner ops@example.com', 'redis://<hidden>@db.example.com:6379/0 owner ops@example.com'],
    ["redis://u:a(b://c'd://e@h:1", 'redis://<hidden>@h:1'],
    // a password holding `@host` and then another URL's start, no space between: hidden up to the last host
    // (so a list of URLs without spaces reads as one: hiding a host is better than showing a password)
    ['redis://u:s3@h.io,x://@db.example.com:6379 owner ops@example.com', 'redis://<hidden>@db.example.com:6379 owner ops@example.com'],
    ['amqp://u:@h.io"x://@localhost/ <me@x.org>', 'amqp://<hidden>@localhost/ <me@x.org>'],
    ['redis://h.io,redis://u:s3=(@h.io"http://q@db:6379', 'redis://<hidden>@db:6379'],
    ['redis://a:p1@h1.example:1,redis://b:p2@h2.example:2', 'redis://<hidden>@h2.example:2'],
    ["redis://u:s3@b.co;x://('a@h.io", 'redis://<hidden>@h.io'],
    // a space still ends a URL: the next one is its own
    ['see //cdn.example.com/a.js then redis://u:p@h:1', 'see //cdn.example.com/a.js then redis://<hidden>@h:1'],
  ])('%s', (text, shown) => {
    expect(hideUrlCredentials(text)).toBe(shown);
  });

  const scheme = fc.constantFrom('redis', 'rediss', 'https', 'http', 'redis+sentinel');
  const user = fc.stringMatching(/^[A-Za-z0-9._-]{0,8}$/);
  const host = fc.constantFrom('127.0.0.1:6379', 'db.example.com', 'redis:6379', 'localhost', '[::1]:6380', 'cache-1.internal:7000', 'h.io');
  const path = fc.constantFrom('', '/0', '/1/q.fifo', '/v1?x=1#y');
  const word = (chars: string) => fc.string({ unit: fc.constantFrom(...chars.split('')), minLength: 1, maxLength: 24 });
  const WITHOUT_SPACE = 'abcXYZ019,@/#:!$%&*+=;';

  it('property: a password without a space, whatever else it holds, never shows; the rest of the line is kept', () => {
    const tail = fc.constantFrom('', ' owner ops@example.com', ', cc dev@example.org.', ' (see https://docs.example.com/x)', ' failed: ECONNREFUSED');
    fc.assert(
      fc.property(scheme, user, word(WITHOUT_SPACE), host, path, tail, (s, u, password, h, p, t) => {
        expect(hideUrlCredentials(`error at ${s}://${u}:${password}@${h}${p}${t}`)).toBe(`error at ${s}://<hidden>@${h}${p}${t}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: a password holding hosts and URL starts (`@h.io,x://`) but no space never shows', () => {
    const piece = fc.constantFrom('a', '9', "'a@b.co", ',', ';', '(', '<', '"', "'", '=', '/', '@', '#', ':', '.', 'x://', '//', '@h.io', '@db:1', 'ops@example.com', '@localhost', 'http://', ')');
    const password = fc.array(piece, { minLength: 1, maxLength: 8 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(scheme, user, password, host, path, (s, u, p, h, rest) => {
        expect(hideUrlCredentials(`${s}://${u}:${p}@${h}${rest} owner ops@example.com`)).toBe(`${s}://<hidden>@${h}${rest} owner ops@example.com`);
      }),
      { numRuns: 5000 },
    );
  });

  it('property: a password with spaces, commas, @ and / never shows (a host with a port, or no dot: it reads as no e-mail address)', () => {
    // With a space, `:123 abc@db.example.com` also reads as a host's port and an e-mail address: the one ambiguous shape.
    const hostWithPort = fc.constantFrom('127.0.0.1:6379', 'redis:6379', 'localhost', '[::1]:6380', 'cache-1.internal:7000');
    fc.assert(
      fc.property(scheme, user, word(`${WITHOUT_SPACE}  `), hostWithPort, path, fc.constantFrom('', ' owner ops', ' failed'), (s, u, password, h, p, t) => {
        expect(hideUrlCredentials(`${s}://${u}:${password}@${h}${p}${t}`)).toBe(`${s}://<hidden>@${h}${p}${t}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('hideUrlCredentials on a long log line', () => {
  // A log line or an error text can be long (a response body, an inspected object): it is read in
  // one pass, not again from each `//`. A guard against a blocked process, not a speed figure: the
  // old code took 8 and 11 s on these, this one well under half a second.
  it.each([
    ['a long path, 100 kB', '//'.repeat(50_000)],
    ['many @ and hosts, 200 kB', `redis://x:p${'@a.b '.repeat(40_000)}`],
  ])('%s: does not block the process for seconds', (_, text) => {
    const started = performance.now();
    hideUrlCredentials(text);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('a configuration error quoting a URL', () => {
  // A setting's value is one URL: from its // to its last @ is hidden, so a password that reads as a
  // host's port and an e-mail address (the one shape hideUrlCredentials cannot tell apart) is hidden too.
  it.each([
    ['REDIS_URL', 'redis://u:123 abc@db.example.com:99999'],
    ['REDIS_URL', 'redis://:pa ss,word@host:99999'],
    ['WEB_ALLOWED_ORIGINS', 'https://u:123 secret@a.example ops@example.com'],
    // the list's items are quoted one by one: a password holding a comma spans two of them
    ['WEB_ALLOWED_ORIGINS', 'https://u:123,secret@a.example'],
    ['WEB_ALLOWED_ORIGINS', 'https://ok.example, https://u:123,secret,x@a.example'],
  ])('%s=%s: its password never shows', (name, value) => {
    const { problems } = collect(variables, { [name]: value });
    expect(problems.join('\n')).toContain('//<hidden>@');
    expect(problems.join('\n')).not.toMatch(/123|pa ss|secret/);
  });
});
