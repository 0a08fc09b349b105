/**
 * Two projects: `unit` and `integration` run anywhere; `netns` runs the real
 * @alicloud/credentials ECS code path inside a private network namespace and
 * needs `unshare -rn` (it skips loudly without it, except under CI=true).
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    {
      // The reliability suite: fault injection against the real app and the built service.
      displayName: 'faults',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
    },
    {
      displayName: 'netns',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/netns/**/*.test.ts'],
    },
  ],
};
