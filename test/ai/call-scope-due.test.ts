/**
 * A retry whose backoff was capped at the time left comes due in the same tick as the deadline; when
 * its timer runs first, the retry must not be sent only to be aborted (a doomed AI request, seen as a
 * second request in `retry.test.ts` under load). The deadline is passed at once instead.
 */
import { describe, expect, it } from 'vitest';
import { CallScope } from '../../src/ai/call-scope.js';

describe('CallScope.expireIfDue', () => {
  it('passes the deadline before its own timer has run when less than the margin is left', () => {
    const scope = new CallScope(20);
    try {
      // The event loop held past the deadline: its timer has not run yet.
      const until = Date.now() + 30;
      while (Date.now() < until);
      expect(scope.signal.aborted).toBe(false);
      expect(scope.expireIfDue(10)).toBe(true);
      expect(scope.signal.aborted).toBe(true);
      expect(scope.causes()).toEqual({ callerAborted: false, deadlinePassed: true });
      expect(scope.toError(scope.signal.reason)).toMatchObject({ kind: 'deadline' });
    } finally {
      scope.dispose();
    }
  });

  it("passes the deadline when a retry's backoff ran to it, whichever timer runs first", () => {
    const scope = new CallScope(10_000);
    try {
      scope.backoffRanOut = true;
      expect(scope.expireIfDue(10)).toBe(true);
      expect(scope.toError(scope.signal.reason)).toMatchObject({ kind: 'deadline' });
    } finally {
      scope.dispose();
    }
  });

  it('leaves a scope with time to spare alone', () => {
    const scope = new CallScope(10_000);
    try {
      expect(scope.expireIfDue(10)).toBe(false);
      expect(scope.signal.aborted).toBe(false);
    } finally {
      scope.dispose();
    }
  });
});
