/**
 * The intake pump's failures as log lines: a pump refused by Redis (a rotated password) fails every
 * few seconds for as long as that lasts, and wrote a warning with a stack trace each time (about
 * 900 KB an hour a worker); now one line a minute, with how many were left out. Dropped entries,
 * each a lost message, are written every time.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DROPPED_ENTRIES } from '../../src/queue/intake-entry.js';
import { GROUP_LOST } from '../../src/queue/intake.js';
import { pumpErrorLog } from '../../src/queue/pump-errors.js';

function logged() {
  const lines: { msg: string; leftOut?: number; err?: { message?: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { lines, logger };
}

describe("the intake pump's failures", () => {
  it('a failure repeated every few seconds is one line a minute', () => {
    const { lines, logger } = logged();
    const report = pumpErrorLog(logger);
    for (let i = 0; i < 10; i++) report(new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(lines.map((line) => line.msg)).toEqual(['moving admitted jobs from the intake into the queue failed; trying again']);
    expect(lines[0]?.err?.message).toMatch(/^WRONGPASS/);
  });

  it('entries dropped, and the group found gone, are told each time, between the failures left out', () => {
    const { lines, logger } = logged();
    const report = pumpErrorLog(logger);
    report(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    report(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    report(new Error(`2 ${DROPPED_ENTRIES}`));
    report(new Error(`1 ${DROPPED_ENTRIES}`));
    report(new Error(GROUP_LOST));
    expect(lines.map((line) => [line.msg, line.err?.message])).toEqual([
      ['moving admitted jobs from the intake into the queue failed; trying again', 'connect ECONNREFUSED 127.0.0.1:6379'],
      ['the intake held entries that are no job; they were dropped', `2 ${DROPPED_ENTRIES}`],
      ['the intake held entries that are no job; they were dropped', `1 ${DROPPED_ENTRIES}`],
      ['moving admitted jobs from the intake into the queue failed; trying again', GROUP_LOST],
    ]);
  });

  it('without a logger, nothing', () => {
    expect(() => pumpErrorLog(undefined)(new Error('x'))).not.toThrow();
  });
});
