/**
 * Jest runs the TypeScript tests under test/ through ts-jest, transpiling each file on its own
 * (fast); `npm test` type-checks everything once with `tsc --noEmit` before.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { isolatedModules: true }],
  },
  // Synthesizing stacks with cdk-nag and running cfn-lint take a while on a small machine.
  testTimeout: 180000,
};
