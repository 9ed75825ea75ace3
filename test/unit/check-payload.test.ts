/**
 * checkPayload takes any schema shaped like zod's (`safeParse`), not only parley's own zod 4, so an
 * adapter author on zod 3 (or anything else with safeParse) can use it. The type check
 * (`npx tsc --noEmit -p .`) is half of this test: the structural schema below must compile.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { checkPayload, InvalidPayloadError, type PayloadSchema } from '../../src/adapter-kit.js';
import { ErrorCode } from '../../src/index.js';

/** A minimal schema as zod 3 shapes its results: no zod at all. */
const eventSchema = {
  safeParse(payload: unknown) {
    const id = (payload as { id?: unknown } | null)?.id;
    return typeof id === 'string'
      ? { success: true as const, data: { id } }
      : { success: false as const, error: { issues: [{ path: ['id'], message: 'Expected string, received number', code: 'invalid_type' }] } };
  },
};

describe('checkPayload with a structural schema', () => {
  it('returns the parsed data, typed by the schema', () => {
    const event = checkPayload(eventSchema, { id: 'E1' }, 'an event');
    expectTypeOf(event).toEqualTypeOf<{ id: string }>();
    expect(event).toEqual({ id: 'E1' });
  });

  it('throws InvalidPayloadError naming the field, not its value', () => {
    let error: unknown;
    try {
      checkPayload(eventSchema, { id: 12345 }, 'an event');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).code).toBe(ErrorCode.InvalidPayload);
    expect((error as Error).message).toBe('an event does not fit: id: Expected string, received number.');
    expect((error as Error).message).not.toContain('12345');
  });

  it('refuses, at compile time, what has no safeParse', () => {
    // @ts-expect-error: not a schema
    expect(() => checkPayload({ parse: () => 1 }, {}, 'x')).toThrow();
    expectTypeOf(eventSchema).toExtend<PayloadSchema<{ id: string }>>();
  });
});
