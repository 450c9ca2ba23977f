import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: the crash and SSH suites run real daemons and sshd, and a loaded 2-core machine is slow.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    // Integration tests spawn daemons, git and sshd: keep the 2-core machines from oversubscribing.
    maxWorkers: 2,
  },
});
