/**
 * A code block whose fences leave its code room for one character only (the model wrote a long
 * language tag) and whose code holds an emoji: the splitter cut a piece of nothing off the code,
 * again and again, and never returned (the process hung, every conversation with it). Run in a
 * child process, so that the old endless loop fails the test instead of hanging the run.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function splitInChild(text: string, maxChars: number): string[] {
  const script = `
    import { splitMessage } from './src/text/split.ts';
    process.stdout.write(JSON.stringify(splitMessage(${JSON.stringify(text)}, ${maxChars})));
  `;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  expect(result.signal, 'the split never returned').toBeNull();
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as string[];
}

describe('splitMessage: a code block with room for one character of code', () => {
  it.each([
    ['a small part', '```', 9],
    ['a WhatsApp part, with a long language tag', `\`\`\`${'a'.repeat(1591)}`, 1600],
  ])('returns, in parts that fit, none cutting the emoji (%s)', (_name, open, maxChars) => {
    const text = `${open}\n😀 hi\n\`\`\``;
    expect(maxChars - open.length - '```'.length - 2).toBe(1); // the room the fences leave
    const parts = splitInChild(text, maxChars);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(maxChars);
      expect(part.isWellFormed()).toBe(true);
    }
    expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
  });
});
