/**
 * XAUTOCLAIM's reply as Redis 6.2 and 7.0 give it (the README promises 6.2): 6.2 answers [cursor,
 * entries], with a bare null in place of an entry deleted while pending (as its XCLAIM does:
 * `if (!emitted) addReplyNull(c)`; 7.0 clears those from the PEL and lists their ids in a third
 * element). The pump took every entry for an [id, fields] pair and threw on such a null (destructuring
 * it) at every look for orphans.
 */
import { describe, expect, it } from 'vitest';
import { claimedEntries } from '../../src/queue/intake-entry.js';

const job = ['job', JSON.stringify({ id: 'slack.E1', group: 'g', data: {} })];

describe("the pump's reading of XAUTOCLAIM", () => {
  it("Redis 6.2's reply: two elements, a deleted entry as null, left out", () => {
    expect(claimedEntries(['0-0', [null, ['2-0', job]]])).toEqual(['0-0', [['2-0', job]]]);
    expect(claimedEntries(['5-0', [null]])).toEqual(['5-0', []]);
  });

  it("Redis 7.0's reply: the third element (ids Redis cleared itself) is not an entry", () => {
    expect(claimedEntries(['0-0', [['2-0', job]], ['1-0']])).toEqual(['0-0', [['2-0', job]]]);
    expect(claimedEntries(['0-0', [], []])).toEqual(['0-0', []]);
  });
});
