/**
 * A refused payload is logged whole at debug level only, with its credentials redacted however
 * deep they sit (a Socket Mode envelope carries its interaction's verification token two levels down).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logRefusal } from '../../src/http/refusals.js';
import { loggerOptions } from '../../src/observe/logger.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { InvalidPayloadError } from '../../src/payload.js';

function logged(level: string, payload: unknown): string {
  const lines: string[] = [];
  const logger = pino(loggerOptions(level), { write: (line: string) => void lines.push(line) });
  logRefusal({ logger, metrics: createMetrics() }, 'slack', new InvalidPayloadError('does not fit', payload, 200));
  return lines.join('\n');
}

describe('the payload of a refused request in the log', () => {
  const envelope = { envelope_id: 'e1', payload: { type: 'unknown_kind', token: 'verificationTOKEN123', user: { id: 'U1' }, view: { state: { secret: 'deep-secret-value' } } } };

  it('at debug: the payload is there, with no token or secret at any depth', () => {
    const text = logged('debug', envelope);
    expect(text).toContain('the payload that did not fit');
    expect(text).toContain('unknown_kind');
    expect(text).not.toContain('verificationTOKEN123');
    expect(text).not.toContain('deep-secret-value');
  });

  it('at debug: a secret nested past any depth is not logged either (the deepest part is replaced)', () => {
    const nest = (levels: number, inner: unknown): unknown => (levels === 0 ? inner : { k: nest(levels - 1, inner) });
    const text = logged('debug', { type: 'deep', nine: nest(9, { token: 'NINE-LEVELS-TOKEN', password: 'NINE-LEVELS-PASSWORD' }), fifty: nest(50, { note: 'FIFTY-LEVELS-TOKEN' }) });
    expect(text).toContain('the payload that did not fit');
    expect(text).not.toMatch(/NINE-LEVELS|FIFTY-LEVELS/);
    expect(text).toContain('[too deep]');
  });

  it('at info: only the refusal, not the payload', () => {
    const text = logged('info', envelope);
    expect(text).toContain('does not fit');
    expect(text).not.toContain('unknown_kind');
  });
});
