/**
 * Export workers as operators run them, `src/worker.ts` in processes of their own configured by
 * environment variables, serving a task queue against the emulator: for tests of several workers
 * sharing one budget, and for benchmarks that measure a worker apart from the process driving it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AccountBudget } from '../../src/config';
import type { Emulator } from '../../src/emulator';
import { startNode, type Running } from './processes';

const WORKER_ENTRY = path.join('src', 'worker.ts');

export interface WorkerProcess {
  pid: number;
  /** The task queue's activity dispatch rate as the Temporal server reports it, per second. */
  effectiveRate: number;
  /** SIGTERM, then the clean exit; rejects on any other exit code. */
  stop(): Promise<void>;
}

/** Writes workflow code to a file for `TICKSUPPLY_WORKFLOW_BUNDLE`; the file goes when the process exits. */
export function writeWorkflowBundle(code: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workflow-bundle-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

/** Resolves once an activity poller of the worker has reached the server, with the rate it applied. */
async function activityRate(env: TestWorkflowEnvironment, taskQueue: string, worker: Running): Promise<number> {
  let ended = false;
  void worker.finished.then(() => (ended = true));
  for (;;) {
    if (ended) throw new Error(`the worker process ended before polling:\n${(await worker.finished).stderr}`);
    const response = await env.client.workflowService.describeTaskQueue({
      namespace: env.namespace ?? 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      reportConfig: true,
    });
    const rate = response.effectiveRateLimit?.requestsPerSecond;
    if ((response.pollers?.length ?? 0) > 0 && typeof rate === 'number') return rate;
    await sleep(100);
  }
}

/**
 * Starts a worker process serving `taskQueue` against `emulator` with `budget` given in real-time
 * terms (for an emulator running N times faster, its limits × N), and resolves once it polls.
 */
export async function startWorkerProcess(
  env: TestWorkflowEnvironment,
  emulator: Emulator,
  taskQueue: string,
  budget: AccountBudget,
  workflowBundlePath: string,
): Promise<WorkerProcess> {
  const worker = startNode(['--import', 'tsx', WORKER_ENTRY], {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TICKSUPPLY_API_KEY: emulator.apiKey,
    TICKSUPPLY_BASE_URL: emulator.url,
    TICKSUPPLY_TASK_QUEUE: taskQueue,
    TICKSUPPLY_WORKFLOW_BUNDLE: workflowBundlePath,
    // A 429 is logged at WARN; errors are what a run here should not have.
    TICKSUPPLY_LOG_LEVEL: 'ERROR',
    TICKSUPPLY_RATE_LIMIT_PER_MINUTE: String(budget.perMinute),
    TICKSUPPLY_RATE_LIMIT_PER_HOUR: String(budget.perHour),
    TICKSUPPLY_BUDGET_SHARE: String(budget.share),
  });
  const { pid } = worker.child;
  const stop = async (): Promise<void> => {
    worker.child.kill('SIGTERM');
    const { code, stderr } = await worker.finished;
    if (code !== 0) throw new Error(`the worker process exited with code ${code}:\n${stderr}`);
  };
  try {
    if (pid === undefined) throw new Error('the worker process did not start');
    return { pid, effectiveRate: await activityRate(env, taskQueue, worker), stop };
  } catch (error) {
    worker.child.kill('SIGKILL');
    await worker.finished;
    throw error;
  }
}
