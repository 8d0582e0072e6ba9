// Test configuration. Integration test files share one machine-wide view (processes in other PID namespaces), so
// files run one after another; tests inside a file run in order too.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts'],
    // Another workload on the same machine, creating and ending PID namespaces and cgroups all along.
    globalSetup: ['test/helpers/busy-host.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
