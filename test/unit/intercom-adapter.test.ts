import { describe, expect, it } from 'vitest';
import { DEFAULT_HANDOFF_PATTERNS, intercomConfigFromEnv, verifyIntercomSignature } from '../../adapters/intercom/index.js';
import { classifyIntercomError, retryAfterMs } from '../../adapters/intercom/errors.js';
import { findPostedPart } from '../../adapters/intercom/find-part.js';
import { handoffMatcher } from '../../adapters/intercom/handoff-patterns.js';
import { ConversationState } from '../../adapters/intercom/state.js';
import { fetchNotingUnanswered, maybePostedWhenUnanswered } from '../../adapters/intercom/unanswered.js';
import { ConfigError, HttpError, MaybePostedError, MemoryStore, PermanentError, RetryAfterError, type HttpRequest } from '../../src/index.js';
import { signIntercom } from '../helpers/intercom-events.js';
import { PLATFORM_UNREACHABLE_WAIT_MS } from '../../src/adapter-kit.js';

const base = { INTERCOM_ACCESS_TOKEN: 'dG9rOnRlc3QtdG9rZW4=', INTERCOM_CLIENT_SECRET: 'secret-one-123' };

describe('intercomConfigFromEnv', () => {
  it('is off without the token and the secret', () => {
    expect(intercomConfigFromEnv({})).toBeUndefined();
    expect(intercomConfigFromEnv({ INTERCOM_REGION: 'eu' })).toBeUndefined();
  });

  it('names the missing half when only one of the token and the secret is set', () => {
    expect(() => intercomConfigFromEnv({ INTERCOM_ACCESS_TOKEN: base.INTERCOM_ACCESS_TOKEN })).toThrow(ConfigError);
    expect(() => intercomConfigFromEnv({ INTERCOM_ACCESS_TOKEN: base.INTERCOM_ACCESS_TOKEN })).toThrow(/INTERCOM_CLIENT_SECRET is missing/);
    expect(() => intercomConfigFromEnv({ INTERCOM_CLIENT_SECRET: base.INTERCOM_CLIENT_SECRET })).toThrow(/INTERCOM_ACCESS_TOKEN is missing/);
    // Set, but to commas only: refused as the value it is (as every secret list is), not called missing.
    expect(() => intercomConfigFromEnv({ ...base, INTERCOM_CLIENT_SECRET: ' , , , , , ' })).toThrow(/^INTERCOM_CLIENT_SECRET="<hidden>" is invalid: holds no secret\./);
  });

  it('names every problem in one error: a short client secret beside a missing token, a short token beside a missing secret', () => {
    let message = '';
    try {
      intercomConfigFromEnv({ INTERCOM_CLIENT_SECRET: 'short', INTERCOM_ADMIN_ID: 'me' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^INTERCOM_CLIENT_SECRET="<hidden>" is invalid/),
      expect.stringMatching(/^INTERCOM_ADMIN_ID="me" is invalid/),
      expect.stringMatching(/^INTERCOM_ACCESS_TOKEN is missing/),
    ]);
    expect(() => intercomConfigFromEnv({ INTERCOM_ACCESS_TOKEN: 'short' })).toThrow(/^INTERCOM_ACCESS_TOKEN="<hidden>" is invalid.*\nINTERCOM_CLIENT_SECRET is missing/s);
  });

  it('has documented defaults', () => {
    expect(intercomConfigFromEnv(base)).toEqual({
      accessToken: base.INTERCOM_ACCESS_TOKEN,
      clientSecrets: ['secret-one-123'],
      adminId: undefined,
      apiUrl: undefined,
      region: 'us',
      handoffTeamId: undefined,
      handoffPatterns: DEFAULT_HANDOFF_PATTERNS.split(',').map((p) => p.trim()),
      path: '/intercom/webhook',
      stopAfterHumanReply: true,
    });
  });

  it('reads every option', () => {
    const config = intercomConfigFromEnv({
      ...base,
      INTERCOM_CLIENT_SECRET: 'secret-one-123, secret-two-456',
      INTERCOM_ADMIN_ID: '12345',
      INTERCOM_API_URL: 'http://127.0.0.1:9999',
      INTERCOM_REGION: 'EU',
      INTERCOM_HANDOFF_TEAM_ID: '678',
      INTERCOM_HANDOFF_PATTERNS: 'Human Being, operator',
      INTERCOM_WEBHOOK_PATH: '/hooks/ic',
      INTERCOM_STOP_AFTER_HUMAN_REPLY: 'off',
    });
    expect(config).toMatchObject({
      clientSecrets: ['secret-one-123', 'secret-two-456'],
      adminId: '12345',
      apiUrl: 'http://127.0.0.1:9999',
      region: 'eu',
      handoffTeamId: '678',
      handoffPatterns: ['human being', 'operator'],
      path: '/hooks/ic',
      stopAfterHumanReply: false,
    });
    expect(intercomConfigFromEnv({ ...base, INTERCOM_HANDOFF_PATTERNS: 'none' })?.handoffPatterns).toEqual([]);
  });

  it('refuses bad values with the fix, and never echoes a secret', () => {
    const attempt = () => intercomConfigFromEnv({ ...base, INTERCOM_CLIENT_SECRET: 'short', INTERCOM_REGION: 'mars', INTERCOM_ADMIN_ID: 'bob', INTERCOM_WEBHOOK_PATH: 'nope' });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('INTERCOM_REGION="mars" is invalid');
    expect(message).toContain('INTERCOM_ADMIN_ID="bob" is invalid');
    expect(message).toContain('INTERCOM_WEBHOOK_PATH');
    expect(message).toContain('INTERCOM_CLIENT_SECRET="<hidden>"');
    expect(message).not.toContain('short');
  });
});

describe('verifyIntercomSignature', () => {
  const request = (body: string, signature?: string): HttpRequest => ({
    method: 'POST',
    url: new URL('http://127.0.0.1/intercom/webhook'),
    headers: signature === undefined ? {} : { 'x-hub-signature': signature },
    body: Buffer.from(body),
  });
  const body = '{"type":"notification_event","topic":"ping"}';

  it('accepts a signature made with any of the secrets', () => {
    expect(() => verifyIntercomSignature(request(body, signIntercom('new-secret', body)), ['old-secret', 'new-secret'])).not.toThrow();
    expect(() => verifyIntercomSignature(request(body, signIntercom('old-secret', body)), ['old-secret', 'new-secret'])).not.toThrow();
  });

  it('refuses a missing, wrong or malformed signature with 401', () => {
    for (const [signature, reason] of [
      [undefined, 'missing_signature'],
      ['', 'missing_signature'],
      [signIntercom('other', body), 'bad_signature'],
      [signIntercom('new-secret', `${body} `), 'bad_signature'],
      [signIntercom('new-secret', body).replace('sha1=', 'sha256='), 'bad_signature'],
      ['sha1=', 'bad_signature'],
    ] as const) {
      try {
        verifyIntercomSignature(request(body, signature), ['new-secret']);
        throw new Error(`accepted ${signature}`);
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        expect(error).toMatchObject({ status: 401, reason });
      }
    }
  });
});

describe('Intercom API errors', () => {
  const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });
  const now = 1_700_000_000_000;

  it('reads Retry-After (seconds or a date), then X-RateLimit-Reset (epoch seconds)', () => {
    expect(retryAfterMs(headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterMs(headers({ 'retry-after': new Date(now + 5000).toUTCString() }), now)).toBe(5000);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now / 1000 + 7) }), now)).toBe(7000);
    expect(retryAfterMs(headers({}), now)).toBe(2000);
    // A reset already past (Intercom's clock behind ours) is as good as none; one just ahead, or a
    // Retry-After of 0, still waits a second: a 429 is never retried at once, over and over.
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now / 1000 - 7) }), now)).toBe(2000);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now / 1000) }), now)).toBe(2000);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset': String(now / 1000 + 0.1) }), now)).toBe(1000);
    expect(retryAfterMs(headers({ 'retry-after': '0' }), now)).toBe(1000);
  });

  it('turns 429 into RetryAfterError, 5xx into the wait for Intercom to be back, 408/409 into a retryable error, other 4xx into PermanentError', () => {
    const sdkError = (statusCode: number, code?: string, extra: Record<string, string> = {}) =>
      Object.assign(new Error('sdk'), { statusCode, body: code ? { type: 'error.list', errors: [{ code, message: 'x' }] } : undefined, rawResponse: { headers: headers(extra) } });
    const limited = classifyIntercomError(sdkError(429, 'rate_limit_exceeded', { 'x-ratelimit-reset': String(now / 1000 + 4) }), 'the reply', now);
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterMs).toBe(4000);
    for (const status of [408, 409]) {
      const error = classifyIntercomError(sdkError(status), 'the reply', now);
      expect(error).not.toBeInstanceOf(PermanentError);
      expect(error).not.toBeInstanceOf(RetryAfterError);
    }
    // Down for now: a wait no attempt is spent on, grown by the queue; a reply a gateway answered 502 or 504 is looked for first.
    for (const status of [500, 502, 503, 504]) {
      const error = classifyIntercomError(sdkError(status), 'conversations.reply', now, true);
      expect(error).toMatchObject({ name: 'RetryAfterError', retryAfterMs: PLATFORM_UNREACHABLE_WAIT_MS, inPlace: false, maybePosted: status === 502 || status === 504 });
    }
    expect(classifyIntercomError(sdkError(502), 'reading the conversation', now)).toMatchObject({ maybePosted: false });
    // A 503 that says when: waited as it says.
    expect(classifyIntercomError(sdkError(503, undefined, { 'retry-after': '3' }), 'conversations.reply', now, true)).toMatchObject({ name: 'RetryAfterError', retryAfterMs: 3000, inPlace: true, maybePosted: false });
    expect(classifyIntercomError(sdkError(404, 'not_found'), 'the reply', now)).toMatchObject({ name: 'PermanentError', reason: 'intercom_not_found' });
    expect(classifyIntercomError(sdkError(401, 'unauthorized'), 'the reply', now)).toMatchObject({ name: 'PermanentError', reason: 'intercom_unauthorized' });
    expect(classifyIntercomError(sdkError(422), 'the reply', now)).toMatchObject({ name: 'PermanentError', reason: 'intercom_422' });
    const offline = new TypeError('fetch failed');
    expect(classifyIntercomError(offline, 'the reply', now)).toBe(offline);
  });
});

describe('a reply that went out and got no answer (MaybePostedError)', () => {
  /** A fetch failing as Node's does, `cause` its reason; run through the noting fetch inside a watched call. */
  const failing = (cause: unknown, signal?: AbortSignal) =>
    maybePostedWhenUnanswered('the reply', async () => {
      const fetch = fetchNotingUnanswered(() => Promise.reject(signal?.aborted ? signal.reason : Object.assign(new TypeError('fetch failed'), { cause })));
      return fetch('https://api.intercom.io/conversations/1/reply', { method: 'POST', signal }).catch(() => {
        throw new Error('fetch failed'); // the SDK keeps only a message
      });
    });

  it('is maybe posted after a timeout or a connection cut after sending; a refused or never-made connection is a wait (nothing sent)', async () => {
    const aborted = new AbortController();
    aborted.abort('timeout');
    await expect(failing(undefined, aborted.signal)).rejects.toBeInstanceOf(MaybePostedError);
    for (const code of ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_HEADERS_TIMEOUT']) {
      await expect(failing(Object.assign(new Error('other side closed'), { code }))).rejects.toBeInstanceOf(MaybePostedError);
    }
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']) {
      const error = await failing(Object.assign(new Error('connect failed'), { code })).catch((caught: unknown) => caught);
      expect(error).not.toBeInstanceOf(MaybePostedError);
      expect(error).toBeInstanceOf(RetryAfterError);
      expect(error).toMatchObject({ retryAfterMs: PLATFORM_UNREACHABLE_WAIT_MS, message: expect.stringContaining(`could not be reached (${code})`) });
    }
    // Another failure before an answer (a bad certificate, say) is neither: retried as it is.
    const other = await failing(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' })).catch((caught: unknown) => caught);
    expect(other).not.toBeInstanceOf(RetryAfterError);
    expect((other as Error).message).toBe('fetch failed');
  });

  it("with an app's own client (no noting fetch): the SDK's timeout counts, an answered status never does", async () => {
    const sdkTimeout = Object.assign(new Error('"timeout"'), { statusCode: undefined });
    await expect(maybePostedWhenUnanswered('the reply', () => Promise.reject(sdkTimeout))).rejects.toBeInstanceOf(MaybePostedError);
    const answered = Object.assign(new Error('"timeout"'), { statusCode: 504 });
    await expect(maybePostedWhenUnanswered('the reply', () => Promise.reject(answered))).rejects.toBe(answered);
    const offline = new Error('fetch failed');
    await expect(maybePostedWhenUnanswered('the reply', () => Promise.reject(offline))).rejects.toBe(offline);
  });
});

describe('findPostedPart', () => {
  const since = Date.UTC(2026, 0, 1, 12);
  const comment = (id: string, body: string, extra: Record<string, unknown> = {}) => ({
    id,
    part_type: 'comment',
    body,
    created_at: since / 1000 + 1,
    author: { type: 'admin', id: '991' },
    ...extra,
  });
  const conversation = (...parts: unknown[]) => ({ type: 'conversation', conversation_parts: { type: 'conversation_part.list', conversation_parts: parts } });

  it("finds the bot's comment reading as the part's text, however its HTML is written", () => {
    const markdown = '**Echo**: hi & bye\n\n- one\n- [two](https://example.com/two)';
    const stored = '<p class="no-margin"><b>Echo</b>: hi &amp; bye</p>\n<ul>\n<li>one</li>\n<li><a href="https://example.com/two" target="_blank" rel="nofollow noopener noreferrer">two</a></li>\n</ul>';
    expect(findPostedPart(conversation(comment('1', '<p>other</p>'), comment('2', stored)), '991', markdown, since)).toBe('2');
  });

  it("is not fooled by another author, a note, another text or a part from before the post (a few seconds' margin for clocks)", () => {
    const markdown = 'the answer';
    expect(findPostedPart(conversation(comment('1', '<p>the answer</p>', { author: { type: 'admin', id: '5150' } })), '991', markdown, since)).toBeUndefined();
    expect(findPostedPart(conversation(comment('1', '<p>the answer</p>', { part_type: 'note' })), '991', markdown, since)).toBeUndefined();
    expect(findPostedPart(conversation(comment('1', '<p>the answer, and more</p>')), '991', markdown, since)).toBeUndefined();
    expect(findPostedPart(conversation(comment('1', '<p>the answer</p>', { created_at: since / 1000 - 6 })), '991', markdown, since)).toBeUndefined();
    expect(findPostedPart(conversation(comment('1', '<p>the answer</p>', { created_at: since / 1000 - 4 })), '991', markdown, since)).toBe('1');
    expect(findPostedPart({ type: 'conversation' }, '991', markdown, since)).toBeUndefined();
  });

  it("takes no earlier reply of the same text for the part: only the bot's comments after the customer's last message before the send can be it", () => {
    const markdown = 'Hi! How can I help?';
    const at = (seconds: number) => ({ created_at: since / 1000 + seconds });
    const customer = (id: string, seconds: number, body = '<p>hi</p>') => comment(id, body, { author: { type: 'user', id: 'u1' }, ...at(seconds) });
    // hi → the same answer (an earlier job, inside the clock margin) → hi again: this job's answer was lost, not posted.
    const before = [customer('1', -20), comment('2', '<p>Hi! How can I help?</p>', at(-4)), customer('3', -3)];
    expect(findPostedPart(conversation(...before), '991', markdown, since)).toBeUndefined();
    // ... and once it is there, after the customer's message, it is found.
    const taken = comment('4', '<p>Hi! How can I help?</p>', at(1));
    expect(findPostedPart(conversation(...before, taken), '991', markdown, since)).toBe('4');
    // The customer writing again after the send ("hello?") does not hide the part taken before it.
    expect(findPostedPart(conversation(...before, taken, customer('5', 3, '<p>hello?</p>')), '991', markdown, since)).toBe('4');
  });
});

describe('handoffMatcher', () => {
  const wantsPerson = handoffMatcher(DEFAULT_HANDOFF_PATTERNS.split(','));

  it.each([
    ['Can I talk to a human?', true],
    ['I want an AGENT', true],
    ['any of your agents around?', true],
    ['let me speak   to\nsomeone please', true],
    ['a real person, please', true],
    ['customer representative', true],
    ['What does this reagent do?', false],
    ['humanity is great', false],
    // Hyphenated compounds are other words; a dash between spaced words is not a hyphen.
    ['my User-Agent header is wrong', false],
    ['the answers feel human-like', false],
    ['non-human traffic', false],
    ['an agent - now!', true],
    ['need a human-', true],
    // …and so are compounds joined by an underscore or a Unicode hyphen.
    ['My user_agent header is curl', false],
    ['HTTP_USER_AGENT=Mozilla', false],
    ['answers that feel human\u2010like', false],
    ['the user\u2011agent string', false],
    // Underscores around a word are emphasis, not a compound.
    ['I need a _human_ please', true],
    ['can I talk to a _real person_?', true],
    ['How do I reset my password?', false],
    // An address is not the customer's words: pasted (bare) or a link's target.
    ['see https://x.com/agents', false],
    ['the page HTTP://help.example.com/human-resources/payroll gives a 404', false],
    ['https://x.com/help did not help, can I talk to a human', true],
    ['The page help.example.com/human-resources gives a 404', false],
    ['www.example.com/agents is down', false],
    ['my email is human.resources@acme.com', false],
    ['mail agent@example.com about it', false],
    ['version 2.0/agent mode, but I want a human', true],
  ])('%j → %s', (text, expected) => {
    expect(wantsPerson(text)).toBe(expected);
  });

  it('matches a phrase in a script written without spaces anywhere in the text', () => {
    const asks = handoffMatcher(['human', '客服', 'オペレーター']);
    expect(asks('我要人工客服')).toBe(true);
    expect(asks('オペレーターと話したい')).toBe(true);
    expect(asks('这个产品怎么用？')).toBe(false);
    // An address in such text ends where the words go on: they still count.
    expect(asks('看了https://example.com/faq还是不行，转人工客服')).toBe(true);
    expect(asks('我看了www.example.com上的说明，我要人工客服')).toBe(true);
    expect(asks('请发到help@example.com谢谢，客服')).toBe(true);
    expect(asks('见 https://example.com/客服')).toBe(true);
    // Latin phrases keep their word edges beside them.
    expect(asks('humanity')).toBe(false);
  });

  it('matches Turkish i\'s and letters typed composed or decomposed, whichever way the phrase was written', () => {
    // The adapter lower-cases its patterns: "İnsan" becomes "i̇nsan" (an i and a combining dot).
    const asks = handoffMatcher(['İnsan'.toLowerCase(), 'yardımcı', 'café']);
    expect(asks('İnsan ile konuşmak istiyorum')).toBe(true);
    expect(asks('insan lütfen')).toBe(true);
    expect(asks('INSAN LÜTFEN')).toBe(true);
    expect(asks('YARDIMCI istiyorum')).toBe(true);
    expect(asks('le cafe\u0301 est fermé')).toBe(true);
    expect(asks('insanlık')).toBe(false);
  });

  it('matches nothing without patterns, and takes patterns literally', () => {
    expect(handoffMatcher([])('human')).toBe(false);
    const custom = handoffMatcher(['c++ (expert)', 'Mensch']);
    expect(custom('ask a C++ (Expert)')).toBe(true);
    expect(custom('ask a cxx expert')).toBe(false);
    expect(custom('einen menschen bitte')).toBe(false);
    expect(custom('ein Mensch bitte')).toBe(true);
  });
});

describe('ConversationState', () => {
  it('lets a redelivery of the same notification claim its part again, but not another notification', async () => {
    const store = new MemoryStore();
    const state = new ConversationState(() => store);
    expect(await state.claimPart('c1', 'p1', 'notif_a')).toBe(true);
    expect(await state.claimPart('c1', 'p1', 'notif_a')).toBe(true); // the core's own dedupe decides
    expect(await state.claimPart('c1', 'p1', 'notif_b')).toBe(false);
    expect(await state.claimPart('c2', 'p1', 'notif_b')).toBe(true);
  });

  it('stops a conversation for everything but the notification that asked for a person', async () => {
    const store = new MemoryStore();
    const state = new ConversationState(() => store);
    expect(await state.stopped('c1', 'notif_a')).toBe(false);
    await state.stopForHandoff('c1', 'notif_a');
    expect(await state.stopped('c1', 'notif_a')).toBe(false);
    expect(await state.stopped('c1', 'notif_b')).toBe(true);
    expect(await state.humanReplied('c1')).toBe(false);
    await state.stopForHuman('c1', '5150');
    expect(await state.stopped('c1', 'notif_a')).toBe(true);
    expect(await state.humanReplied('c1')).toBe(true);
  });

  it('records a handoff after an admin reply it could not place yet (the bot\'s own, once its admin is known)', async () => {
    const store = new MemoryStore();
    const state = new ConversationState(() => store);
    await state.noteAdminReply('c2', ['900']); // GET /me has not answered: 900 may be the bot
    await state.stopForHandoff('c2', 'notif_h');
    expect(await state.stopped('c2', 'notif_h', '900')).toBe(false); // the request itself goes through
    expect(await state.stopped('c2', 'notif_later', '900')).toBe(true);
  });

  it('hands a conversation over for one request only: the first (and its redelivery), not one that came at the same time', async () => {
    const store = new MemoryStore();
    const state = new ConversationState(() => store);
    expect(await Promise.all([state.stopForHandoff('c1', 'notif_a'), state.stopForHandoff('c1', 'notif_b')])).toEqual([true, false]);
    expect(await state.stopForHandoff('c1', 'notif_a')).toBe(true); // a redelivery is handed over again
    expect(await state.stopForHandoff('c1', 'notif_c')).toBe(false);
    await state.stopForHuman('c3', '5150');
    expect(await state.stopForHandoff('c3', 'notif_d')).toBe(false); // a teammate has it already
    // Two requests that both find an undecided admin reply: one replaces it.
    await state.noteAdminReply('c2', ['900']);
    const owners = await Promise.all([state.stopForHandoff('c2', 'notif_e'), state.stopForHandoff('c2', 'notif_f')]);
    expect(owners.filter(Boolean)).toHaveLength(1);
    const owner = owners[0] ? 'notif_e' : 'notif_f';
    expect(await state.stopForHandoff('c2', owner)).toBe(true);
    expect(await state.stopped('c2', owner, '900')).toBe(false);
  });
});
