import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDevServerEnv, createTimeSkippingEnv, workflowBundle } from './helpers/temporal';
import { echo } from './workflows/trivial';

async function runEcho(env: TestWorkflowEnvironment): Promise<string> {
  const taskQueue = `smoke-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(
    env.client.workflow.execute(echo, { taskQueue, workflowId: taskQueue, args: ['hello'] }),
  );
}

for (const [name, create] of [
  ['time-skipping test server', createTimeSkippingEnv],
  ['dev server', createDevServerEnv],
] as const) {
  test(`the installed ${name} starts and runs a workflow`, async () => {
    const env = await create();
    try {
      assert.equal(await runEcho(env), 'hello');
    } finally {
      await env.teardown();
    }
  });
}
