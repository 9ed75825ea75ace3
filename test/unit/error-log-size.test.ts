/**
 * An error logged per failed message stays a line of a few kilobytes, whatever the provider or the
 * platform put in its text (README "Operations"): an AI provider's error quoting a whole page, a
 * Twilio refusal with a long message. The message, and the stack that repeats it, are cut; the
 * stack's frames stay; secrets are hidden before the cut.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE, serializeError } from '../../src/observe/logger.js';
import { rememberSecrets } from '../../src/secret-values.js';

describe('serializeError', () => {
  it('cuts a huge message, and the stack that repeats it, keeping the frames and saying how much was left out', () => {
    const page = `<html>${'y'.repeat(200_000)}</html>`;
    const serialized = serializeError(new Error(`AI provider answered 502: ${page}`)) as { message: string; stack: string };
    expect(serialized.message.length).toBeLessThan(MAX_ERROR_MESSAGE + 100);
    expect(serialized.message).toMatch(/… \(\d+ more characters\)$/);
    expect(serialized.stack.length).toBeLessThan(MAX_ERROR_MESSAGE + 5000);
    expect(serialized.stack).toContain('error-log-size.test.ts');
    expect(JSON.stringify(serialized).length).toBeLessThan(10_000);
  });

  it('cuts any other long string of the error (a body it carries), and hides a secret at the cut', () => {
    const secret = 'sk-card-cut-secret-0123456789';
    rememberSecrets(secret);
    const message = `${'m'.repeat(MAX_ERROR_MESSAGE - 5)}${secret} and more ${'n'.repeat(5000)}`;
    const error = Object.assign(new Error(message), { body: 'b'.repeat(100_000) });
    const serialized = serializeError(error) as { message: string; body: string; stack: string };
    expect(serialized.body.length).toBeLessThan(5000);
    const line = JSON.stringify(serialized);
    expect(line).not.toContain(secret.slice(0, 8));
  });

  it("keeps the stack's frames when the message holds what String.replace reads as a pattern ($&, a page's script)", () => {
    const serialized = serializeError(new Error(`AI provider answered 502: <script>x.replace(/a/, '$&$&')</script>${'y'.repeat(200_000)}`)) as { message: string; stack: string };
    expect(serialized.stack.length).toBeLessThan(MAX_ERROR_MESSAGE + 5000);
    expect(serialized.stack).toContain('error-log-size.test.ts');
    expect(serialized.stack.startsWith(`Error: ${serialized.message}\n`)).toBe(true);
  });

  it('leaves an ordinary error as it was', () => {
    const error = new Error('Slack answered HTTP 500');
    expect(serializeError(error)).toMatchObject({ message: 'Slack answered HTTP 500', stack: error.stack });
  });
});
