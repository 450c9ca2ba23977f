import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn daemons, git and sshd: keep the 2-core machines from oversubscribing.
    maxWorkers: 2,
  },
});
