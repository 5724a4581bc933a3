/**
 * A Temporal server, the Ticksupply emulator and workers running the real activities against it:
 * what the workflow tests and the history recorder (test/histories/record.ts) share.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { startEmulator, type Emulator, type RequestRecord } from '../../src/emulator';
import { TicksupplyClient } from '../../src/ticksupply';
import { workflowBundle } from './temporal';

export interface ExportWaits {
  env: TestWorkflowEnvironment;
  emulator: Emulator;
  /** Runs `fn` while a worker of its own serves a fresh task queue, which `fn` receives. */
  withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T>;
  /** `GET /v1/exports/{id}` requests the emulator received for `exportId`, oldest first. */
  requestsFor(exportId: string): RequestRecord[];
  close(): Promise<void>;
}

/**
 * Starts the emulator with rate limiting off: time-skipped waits send hours of polls within real
 * seconds, which the account's real-time buckets would turn into 429s.
 */
export async function startExportWaits(createEnv: () => Promise<TestWorkflowEnvironment>): Promise<ExportWaits> {
  const [env, emulator] = await Promise.all([createEnv(), startEmulator({ rateLimit: false })]);
  const activities = createActivities({
    client: new TicksupplyClient({ apiKey: emulator.apiKey, baseUrl: emulator.url }),
  });
  return {
    env,
    emulator,
    async withWorker(fn) {
      const taskQueue = `await-export-test-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities,
      });
      return worker.runUntil(fn(taskQueue));
    },
    requestsFor(exportId) {
      return emulator.requests.filter((r) => r.method === 'GET' && r.exportId === exportId);
    },
    async close() {
      await Promise.all([env.teardown(), emulator.close()]);
    },
  };
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** The history of every run of a workflow chain, oldest first, following continue-as-new. */
export async function historiesOfChain(handle: WorkflowHandleWithFirstExecutionRunId): Promise<History[]> {
  const runs: History[] = [];
  let runId: string | undefined = handle.firstExecutionRunId;
  while (runId !== undefined) {
    const history = await handle.client.getHandle(handle.workflowId, runId).fetchHistory();
    runs.push(history);
    const last = history.events?.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}
