/**
 * The Slack SDKs' logger (adapters/slack/sdk-logger.ts): their info, warn and error lines as pino
 * JSON lines at LOG_LEVEL; their debug lines (request and response bodies) never.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { slackSdkLogger } from '../../adapters/slack/sdk-logger.js';

type Line = { level: number; msg: string; component?: string; sdk?: string; err?: { message: string } };

function capture(level: pino.Level) {
  const lines: Line[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  return { lines, logger };
}

describe('slackSdkLogger', () => {
  it('writes info, warn and error as JSON lines naming the SDK; an Error becomes err', () => {
    const { lines, logger } = capture('info');
    const sdk = slackSdkLogger(() => logger);
    sdk.setName('web-api:WebClient:0');
    sdk.info('Now connected to Slack');
    sdk.warn('http request failed', 'fetch failed'); // each unanswered request: debug (the caller logs the failure)
    sdk.error(new Error('socket hang up'));
    sdk.warn({ code: 'slack_webapi_platform_error' });
    expect(lines.map(({ level, msg, component, sdk: name }) => ({ level, msg, component, name }))).toEqual([
      { level: 30, msg: 'Now connected to Slack', component: 'slack-sdk', name: 'web-api:WebClient:0' },
      { level: 50, msg: 'socket hang up', component: 'slack-sdk', name: 'web-api:WebClient:0' },
      { level: 40, msg: '{"code":"slack_webapi_platform_error"}', component: 'slack-sdk', name: 'web-api:WebClient:0' },
    ]);
    expect(lines[1]!.err?.message).toBe('socket hang up');
  });

  it("logs a response's warnings one line each, without the index and array forEach passes along", () => {
    const { lines, logger } = capture('info');
    const sdk = slackSdkLogger(() => logger);
    ['missing_charset', 'superfluous_charset'].forEach(sdk.warn.bind(sdk));
    sdk.warn('three things', 0, ['not', 'three things']); // not an element at its index: kept whole
    expect(lines.map((l) => l.msg)).toEqual(['missing_charset', 'superfluous_charset', 'three things 0 ["not","three things"]']);
  });

  it('never passes on a debug line, even at LOG_LEVEL=debug, and tells the SDKs so', () => {
    const { lines, logger } = capture('debug');
    const sdk = slackSdkLogger(() => logger);
    sdk.debug('http request body: {"client_id":"1","client_secret":"s3cret","code":"c"}');
    expect(lines).toEqual([]);
    expect(sdk.getLevel()).toBe('info');
  });

  it('follows LOG_LEVEL, whatever level an SDK sets', () => {
    const { lines, logger } = capture('warn');
    const sdk = slackSdkLogger(() => logger);
    sdk.setLevel('debug' as Parameters<typeof sdk.setLevel>[0]);
    sdk.info('not at warn');
    sdk.warn('at warn');
    expect(lines.map((l) => l.msg)).toEqual(['at warn']);
    expect(sdk.getLevel()).toBe('warn');
    expect(slackSdkLogger(() => capture('error').logger).getLevel()).toBe('error');
  });

  it('drops what comes before the adapter has started, without throwing', () => {
    const sdk = slackSdkLogger(() => {
      throw new Error('the Slack adapter has not been started');
    });
    expect(() => sdk.error('early')).not.toThrow();
    expect(slackSdkLogger(() => undefined).getLevel()).toBe('info');
  });
});
