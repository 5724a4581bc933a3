/**
 * The parts every benchmark runs: a worker with the product's and the baselines' workflows and
 * activities, the three ways to wait, and what a finished wait cost (requests, history, timing).
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { msToNumber } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createDevServerEnv } from '../../test/helpers/temporal';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { DEFAULT_CADENCE } from '../../src/cadence';
import type { Emulator } from '../../src/emulator';
import type { PollCadence } from '../../src/shared';
import { TicksupplyClient } from '../../src/ticksupply';
import type { awaitExport } from '../../src/workflows';
import { createBaselineActivities } from '../activities';
import type { activityRetryAwait, plainLoopAwait } from '../workflows';

export type Strategy = 'awaitExport' | 'plainLoop' | 'activityRetry';

export const STRATEGY_LABELS: Record<Strategy, string> = {
  awaitExport: 'awaitExport (ours)',
  plainLoop: 'activity + sleep loop',
  activityRetry: 'activity-retry polling',
};

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

function benchBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '..', 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  return bundle;
}

/**
 * The dev server, tuned so that compressed cadences keep their shape. Both defaults protect a
 * production shard and are far from binding at real-time intervals (seconds or more):
 * - `timerProcessorMaxTimeShift` 1 s → 5 ms: no timer or activity retry fires sooner than this
 *   after it was scheduled, which would stretch every interval below 1 s;
 * - `timerProcessorMaxPollRPS` / `transferProcessorMaxPollRPS` 20 → 1000: the dev server's single
 *   shard reads due timers and new tasks at most 20 times a second, which caps compressed polling
 *   of all waits together near 20 polls a second.
 */
export function createBenchDevServer(): Promise<TestWorkflowEnvironment> {
  const settings = {
    'history.timerProcessorMaxTimeShift': '"5ms"',
    'history.timerProcessorMaxPollRPS': '1000',
    'history.transferProcessorMaxPollRPS': '1000',
  };
  const extraArgs = Object.entries(settings).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);
  return createDevServerEnv({ extraArgs });
}

/** Runs `use` on a fresh server and tears the server down however `use` ends. */
export async function withEnv<T>(create: () => Promise<TestWorkflowEnvironment>, use: (env: TestWorkflowEnvironment) => Promise<T>): Promise<T> {
  const env = await create();
  try {
    return await use(env);
  } finally {
    await env.teardown();
  }
}

export interface BenchWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/** A worker on its own task queue whose activities poll `emulator`. */
export async function startWorker(env: TestWorkflowEnvironment, emulator: Emulator): Promise<BenchWorker> {
  const client = new TicksupplyClient({ apiKey: emulator.apiKey, baseUrl: emulator.url });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await benchBundle(),
    activities: { ...createActivities({ client }), ...createBaselineActivities({ client }) },
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * The default cadence run `scale` times faster: intervals divided by `scale`, coefficient and
 * jitter unchanged. At scale 1 it is no option at all, so the defaults themselves are measured.
 */
export function scaledCadence(scale: number): PollCadence {
  if (scale === 1) return {};
  return {
    initialInterval: msToNumber(DEFAULT_CADENCE.initialInterval) / scale,
    maximumInterval: msToNumber(DEFAULT_CADENCE.maximumInterval) / scale,
  };
}

export interface WaitSpec {
  strategy: Strategy;
  exportId: string;
  /** Time compression of the cadence; see {@link scaledCadence}. */
  scale: number;
  /** `activityRetry` only: the fixed interval between polls in real ms. */
  intervalMs?: number;
}

export function startWait(client: Client, taskQueue: string, spec: WaitSpec): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const options = { taskQueue, workflowId: `bench-${spec.strategy}-${spec.exportId}` };
  const input = { exportId: spec.exportId, ...scaledCadence(spec.scale) };
  switch (spec.strategy) {
    case 'awaitExport':
      return client.workflow.start<typeof awaitExport>('awaitExport', { ...options, args: [input] });
    case 'plainLoop':
      return client.workflow.start<typeof plainLoopAwait>('plainLoopAwait', { ...options, args: [input] });
    case 'activityRetry': {
      if (spec.intervalMs === undefined) throw new Error('activityRetry needs intervalMs');
      const args: Parameters<typeof activityRetryAwait> = [{ exportId: spec.exportId, intervalMs: spec.intervalMs }];
      return client.workflow.start<typeof activityRetryAwait>('activityRetryAwait', { ...options, args });
    }
  }
}

/** The export's status as the finished wait reports it, whichever strategy ran it. */
export async function finalStatus(handle: WorkflowHandle): Promise<string> {
  const result: unknown = await handle.result();
  if (typeof result === 'string') return result;
  return (result as Awaited<ReturnType<typeof awaitExport>>).job.status;
}

/** `GET /v1/exports/{id}` requests the emulator answered, or started answering, for this export. */
export function requestsFor(emulator: Emulator, exportId: string): number {
  const path = `/v1/exports/${exportId}`;
  return emulator.requests.filter((r) => r.method === 'GET' && r.path === path).length;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

export interface HistoryCost {
  /** Events in all runs of the wait together. */
  events: number;
  /** 1 + the continue-as-new hand-overs. */
  runs: number;
  /** Serialized history size in bytes over all runs, as the server reports it; null where it does not (the time-skipping server). */
  bytes: number | null;
}

/** Follows the continue-as-new chain from the first run and adds up every run's history. */
export async function historyCost(client: Client, workflowId: string, firstRunId: string): Promise<HistoryCost> {
  let events = 0;
  const sizes: number[] = [];
  for (let runId: string | null | undefined = firstRunId; runId; ) {
    const handle: WorkflowHandle = client.workflow.getHandle(workflowId, runId);
    const [history, description] = await Promise.all([handle.fetchHistory(), handle.describe()]);
    const runEvents: readonly HistoryEvent[] = history.events ?? [];
    events += runEvents.length;
    sizes.push(description.historySize ?? 0);
    runId = runEvents.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  const bytes = sizes.every((size) => size > 0) ? sizes.reduce((sum, size) => sum + size, 0) : null;
  return { events, runs: sizes.length, bytes };
}
