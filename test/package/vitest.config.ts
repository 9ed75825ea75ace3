import { defineConfig } from 'vitest/config';

// `npm run test:package` (run by .ci/run): packs, installs and runs parley as a user would. It
// takes a minute or two, so the everyday `npm test` leaves it out.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/package/**/*.test.ts'],
    testTimeout: 240_000, // the TypeScript consumers compile for over a minute on a busy 2-core machine
    hookTimeout: 300_000,
  },
});
