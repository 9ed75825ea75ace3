import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

const source = (path: string) => new URL(path, import.meta.url).pathname;

export default defineConfig({
  // The public names adapters import parley by (tsconfig.json's paths), resolved to the sources.
  resolve: {
    alias: [
      { find: /^parley$/, replacement: source('./src/index.ts') },
      { find: /^parley\/adapter-kit$/, replacement: source('./src/adapter-kit.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The pack-and-install test has its own run: npm run test:package.
    exclude: [...configDefaults.exclude, 'test/package/**'],
    // Most files wait on child processes, timers and sockets rather than compute (on two cores the
    // CPU sat 30–60% idle with two files at a time), so four at a time even on two cores (vitest's
    // default there is one: cores - 1): 740 s → 597 s of CI's test time with three on this 2-core
    // machine, 729 s → 625 s with four on a slower day.
    maxWorkers: Math.max(4, availableParallelism() - 1),
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
