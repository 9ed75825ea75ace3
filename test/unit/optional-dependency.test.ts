import { describe, expect, it } from 'vitest';
import { MissingDependencyError } from '../../src/errors.js';
import { requireInstalled, requireOptional } from '../../src/optional-dependency.js';
import { slackBolt } from '../../adapters/slack/sdk.js';

describe('requireOptional', () => {
  it('loads an installed package synchronously', () => {
    const zod = requireOptional<typeof import('zod')>('zod', 'a test');
    expect(typeof zod.z.string).toBe('function');
    expect(slackBolt().App).toBeTypeOf('function');
  });

  it('names the npm install command for every missing package of the group', () => {
    const error = (() => {
      try {
        requireOptional('parley-missing-sdk-a', 'fakeAdapter()', ['parley-missing-sdk-a', 'zod', 'parley-missing-sdk-b']);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as MissingDependencyError).code).toBe('parley_missing_dependency');
    expect((error as Error).message).toMatch(/^fakeAdapter\(\) needs .*Fix: npm install parley-missing-sdk-a parley-missing-sdk-b$/);
  });
});

describe('requireInstalled', () => {
  it('passes when every package is installed', () => {
    expect(() => requireInstalled(['zod', '@slack/bolt'], 'a test')).not.toThrow();
  });

  it('names the npm install command for the missing ones', () => {
    expect(() => requireInstalled(['parley-missing-sdk-a', 'zod', 'parley-missing-sdk-b'], 'fakeAdapter()')).toThrow(
      /^fakeAdapter\(\) needs .*Fix: npm install parley-missing-sdk-a parley-missing-sdk-b$/,
    );
  });
});
