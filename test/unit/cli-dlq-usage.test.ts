/**
 * `parley dlq` with an action it does not know, or one missing its ID, prints that usage (exit 2)
 * before anything else: not a request for REDIS_URL the mistyped command would not have used.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dlq } from '../../cli/dlq.js';
import { loadConfig } from '../../src/index.js';

let printed: string[];
beforeEach(() => {
  printed = [];
  vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
  vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
});
afterEach(() => vi.restoreAllMocks());

describe('parley dlq, a wrong action, no queue configured', () => {
  it.each([
    [['bogus'], false, 'parley dlq: unknown action "bogus"\n\nusage: parley dlq list [--user ID] [--conversation TEXT] | show ID | replay ID | replay --all | drop ID | purge'],
    [[], false, 'usage: parley dlq list [--user ID] [--conversation TEXT] | show ID | replay ID | replay --all | drop ID | purge'],
    [['show'], false, 'usage: parley dlq show ID (parley dlq list names them)'],
    [['drop'], false, 'usage: parley dlq drop ID (parley dlq list names them)'],
    [['replay'], false, 'usage: parley dlq replay ID | parley dlq replay --all'],
  ])('dlq %j: the usage, exit 2', async (args, all, usage) => {
    expect(await dlq(loadConfig({}), args, all)).toBe(2);
    expect(printed).toEqual([usage]);
  });

  it('dlq replay ID --all: refused, exit 2, rather than every letter replayed', async () => {
    expect(await dlq(loadConfig({}), ['replay', 'x'], true)).toBe(2);
    expect(printed).toEqual([expect.stringMatching(/^parley dlq replay: give one ID or --all, not both \("x" and --all\)\n\nusage: parley dlq replay ID \| parley dlq replay --all$/)]);
  });

  it('a whole command still asks for REDIS_URL or SQS_QUEUE_URL', async () => {
    for (const [args, all] of [[['list'], false], [['replay'], true], [['show', 'x'], false]] as const) {
      printed = [];
      expect(await dlq(loadConfig({}), [...args], all)).toBe(2);
      expect(printed).toEqual([expect.stringMatching(/^parley dlq: .*Set SQS_QUEUE_URL or REDIS_URL/)]);
    }
  });
});
