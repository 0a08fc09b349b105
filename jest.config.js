/**
 * The test tiers. `unit`, `integration` and `security` run anywhere; `netns`
 * runs the real @alicloud/credentials ECS code path inside a private network
 * namespace and needs `unshare -rn` (it skips loudly without it, except under
 * CI=true, where it fails). `browser` drives Debian's chromium with playwright-core and
 * skips or fails the same way without it.
 *
 * Tiers that talk over real HTTP get a generous per-test bound: on a shared
 * 2-core machine 200 concurrent requests can take longer than jest's default
 * 5 s. It is a bound against hangs, not a timing assertion.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

const project = (name, testTimeout) => ({
  displayName: name,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...(testTimeout ? { testTimeout } : {}),
});

/** @type {import('jest').Config} */
module.exports = {
  // Jest 30's test runner reads the timeout from the global configuration only: the projects' own
  // testTimeout below was ignored, and tests that start services timed out at the default 5 s on a
  // busy machine. The global bound is the largest of them; it bounds hangs, it times nothing.
  testTimeout: 60_000,
  projects: [
    project('unit'),
    project('integration', 30_000),
    project('security', 60_000),
    // The reliability suite: fault injection against the real app and the built service.
    project('faults', 60_000),
    project('netns', 60_000),
    // Headless Chromium (Debian's package) against the built service: the HTML index, Basic, CORS.
    project('browser', 60_000),
  ],
};
