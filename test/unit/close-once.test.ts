/**
 * bot.close() run once (closeOnce): a later call joins the first. Only that call's signal, or its
 * own `delayMs: 0`, ends the first call's delay: one that names no delay (a second shutdown hook)
 * leaves it running, whatever SHUTDOWN_DELAY_MS's default is.
 */
import { describe, expect, it } from 'vitest';
import { closeOnce } from '../../src/bot-close.js';

function closer(defaultDelayMs: number) {
  const runs: { delayMs: number; endDelay: AbortSignal }[] = [];
  let finish!: () => void;
  const done = new Promise<{ unfinished: number }>((resolve) => (finish = () => resolve({ unfinished: 0 })));
  const close = closeOnce(async (delayMs, endDelay) => {
    runs.push({ delayMs, endDelay });
    return done;
  }, defaultDelayMs);
  return { close, runs, finish };
}

describe('a second bot.close() during the first one\'s delay', () => {
  it('that names no delay joins it and leaves the delay running, when SHUTDOWN_DELAY_MS is 0 (the default)', async () => {
    const { close, runs, finish } = closer(0);
    const first = close({ delayMs: 60_000 });
    const second = close();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.delayMs).toBe(60_000);
    expect(runs[0]!.endDelay.aborted).toBe(false);
    finish();
    expect(await Promise.all([first, second])).toEqual([{ unfinished: 0 }, { unfinished: 0 }]);
  });

  it('that names no delay leaves it running with another default too', async () => {
    const { close, runs, finish } = closer(5000);
    void close({ delayMs: 60_000 });
    void close();
    expect(runs[0]!.endDelay.aborted).toBe(false);
    finish();
  });

  it('with delayMs: 0, or an aborted signal, ends it', async () => {
    for (const later of [{ delayMs: 0 }, { signal: AbortSignal.abort() }]) {
      const { close, runs, finish } = closer(0);
      void close({ delayMs: 60_000 });
      void close(later);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.endDelay.aborted).toBe(true);
      finish();
    }
  });
});
