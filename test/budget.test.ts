/**
 * The account budget: how it is configured and derived, and many waits sharing it on the real dev
 * server against the emulator's token buckets, with limits scaled down so that a run takes seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ConfigError, DEFAULT_BUDGET, loadConfig, taskQueueActivitiesPerSecond, type AccountBudget } from '../src/config';
import { startEmulator, type Emulator, type RateLimitConfig } from '../src/emulator';
import type { AwaitExportResult } from '../src/shared';
import { TicksupplyClient } from '../src/ticksupply';
import { createExportWorker } from '../src/worker';
import type { awaitExport } from '../src/workflows';
import { createDevServerEnv, workflowBundle } from './helpers/temporal';
import { startWorkerProcess, writeWorkflowBundle } from './helpers/worker-process';

describe('the budget', () => {
  const env = (vars: Record<string, string>) => ({ TICKSUPPLY_API_KEY: 'key', TEMPORAL_CONFIG_FILE: '/nonexistent.toml', ...vars });

  test('defaults to the documented limits, of which waits take 80 %: 2.22 requests a second', () => {
    assert.deepEqual(loadConfig(env({})).budget, { perMinute: 200, perHour: 10_000, share: 0.8 });
    assert.deepEqual(DEFAULT_BUDGET, { perMinute: 200, perHour: 10_000, share: 0.8 });
    assert.equal(taskQueueActivitiesPerSecond(DEFAULT_BUDGET), (0.8 * 10_000) / 3_600);
  });

  test('takes the share of whichever limit is slower when sustained', () => {
    assert.equal(taskQueueActivitiesPerSecond({ perMinute: 60, perHour: 36_000, share: 0.5 }), 0.5);
    assert.equal(taskQueueActivitiesPerSecond({ perMinute: 600, perHour: 7_200, share: 1 }), 2);
  });

  test('reads the three variables', () => {
    const vars = { TICKSUPPLY_RATE_LIMIT_PER_MINUTE: '1000', TICKSUPPLY_RATE_LIMIT_PER_HOUR: '36000', TICKSUPPLY_BUDGET_SHARE: '.5' };
    assert.deepEqual(loadConfig(env(vars)).budget, { perMinute: 1000, perHour: 36_000, share: 0.5 });
  });

  for (const [vars, message] of [
    [
      { TICKSUPPLY_RATE_LIMIT_PER_MINUTE: '0', TICKSUPPLY_RATE_LIMIT_PER_HOUR: '1e4' },
      'invalid configuration: TICKSUPPLY_RATE_LIMIT_PER_MINUTE must be a positive whole number of requests; TICKSUPPLY_RATE_LIMIT_PER_HOUR must be a positive whole number of requests',
    ],
    [{ TICKSUPPLY_BUDGET_SHARE: '80%' }, 'invalid configuration: TICKSUPPLY_BUDGET_SHARE must be a fraction in (0, 1], such as 0.8'],
    [{ TICKSUPPLY_BUDGET_SHARE: '1.5' }, 'invalid configuration: TICKSUPPLY_BUDGET_SHARE must be a fraction in (0, 1], such as 0.8'],
    [{ TICKSUPPLY_BUDGET_SHARE: '0.0' }, 'invalid configuration: TICKSUPPLY_BUDGET_SHARE must be a fraction in (0, 1], such as 0.8'],
  ] as const) {
    test(message.replace('invalid configuration: ', 'refuses: '), () => {
      assert.throws(
        () => loadConfig(env(vars)),
        (error: unknown) => error instanceof ConfigError && error.message === message,
      );
    });
  }
});

/**
 * The emulated account: the documented 1 : 50 ratio of the two limits, scaled down, on a clock 10
 * times faster than the real one. In real time the minute bucket holds 60 requests and refills at
 * 10 a second, and the hour bucket sustains 8.3 a second: the budget's 80 % of that is 6.7.
 * (The minute bucket must hold the burst the server dispatches while a fresh task queue's pollers
 * bring it the rate, about 20 tasks here; the account's real bucket holds 200.)
 */
const LIMITS: RateLimitConfig = { perMinute: 60, perHour: 3_000 };
const TIME_SCALE = 10;
const WAITS = 50;
/**
 * Each wait asks to poll again within a second; the server retries an activity about a second
 * later at the earliest, so 50 waits ask for about 50 polls a second, several times the budget,
 * for as long as the exports run (the dev server on two cores serves about 40): pacing alone keeps
 * 429s away.
 */
const CADENCE = { initialInterval: '200ms', maximumInterval: '1s' } as const;
/** How long the exports run, real ms, spread evenly over the waits. */
const RUN_MS = { min: 5_000, max: 10_000 };

/** The emulated account's limits in real time, as a worker must be configured for them. */
function realTimeBudget(share: number): AccountBudget {
  return { perMinute: LIMITS.perMinute * TIME_SCALE, perHour: LIMITS.perHour * TIME_SCALE, share };
}

interface Outcome {
  emulator: Emulator;
  results: Map<string, AwaitExportResult>;
}

/** Serves a task queue until `waits` settles. */
type Serve = (taskQueue: string, emulator: Emulator, waits: Promise<unknown>) => Promise<void>;

/** One export worker in this process. */
function inProcess(env: TestWorkflowEnvironment, budget: AccountBudget): Serve {
  return async (taskQueue, emulator, waits) => {
    const worker = await createExportWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue,
      client: new TicksupplyClient({ apiKey: emulator.apiKey, baseUrl: emulator.url }),
      workflowBundle: await workflowBundle(),
      budget,
    });
    await worker.runUntil(waits);
  };
}

/** `count` worker processes, each configured as an operator would, all with `budget`. */
function processes(env: TestWorkflowEnvironment, budget: AccountBudget, count: number): Serve {
  return async (taskQueue, emulator, waits) => {
    const bundlePath = writeWorkflowBundle((await workflowBundle()).code);
    const workers = await Promise.allSettled(
      Array.from({ length: count }, () => startWorkerProcess(env, emulator, taskQueue, budget, bundlePath)),
    );
    const started = workers.flatMap((worker) => (worker.status === 'fulfilled' ? [worker.value] : []));
    try {
      for (const worker of workers) if (worker.status === 'rejected') throw worker.reason;
      await waits;
    } finally {
      await Promise.all(started.map((worker) => worker.stop()));
    }
  };
}

/**
 * Starts `WAITS` waits on exports that are running and succeed `RUN_MS` after creation (or at their
 * first poll, if later), served by `serve`, and returns once all have ended.
 */
async function waitForAll(env: TestWorkflowEnvironment, serve: Serve): Promise<Outcome> {
  const emulator = await startEmulator({ rateLimit: LIMITS, timeScale: TIME_SCALE });
  try {
    const taskQueue = `budget-${randomUUID()}`;
    const exportIds = Array.from({ length: WAITS }, (_, k) =>
      emulator.createExport({
        lifecycle: [
          { status: 'running' },
          // Never before the first poll, which the first round through all waits may delay for seconds.
          { status: 'succeeded', afterPolls: 1, afterMs: (RUN_MS.min + ((RUN_MS.max - RUN_MS.min) * k) / WAITS) * TIME_SCALE },
        ],
      }),
    );
    const waits = Promise.all(
      exportIds.map(async (exportId) => {
        const handle = await env.client.workflow.start<typeof awaitExport>('awaitExport', {
          taskQueue,
          workflowId: `budget-${exportId}`,
          args: [{ exportId, ...CADENCE }],
        });
        return [exportId, await handle.result()] as const;
      }),
    );
    await serve(taskQueue, emulator, waits);
    return { emulator, results: new Map(await waits) };
  } finally {
    await emulator.close();
  }
}

/** Every wait saw its export run and succeed, and counted each request the emulator received for it. */
function assertAllSucceeded({ emulator, results }: Outcome): void {
  assert.equal(results.size, WAITS);
  for (const [exportId, result] of results) {
    assert.equal(result.job.id, exportId);
    assert.deepEqual(
      result.statusHistory.map((observation) => observation.status),
      ['running', 'succeeded'],
    );
    assert.equal(result.polls, emulator.requests.filter((request) => request.exportId === exportId).length);
  }
}

/**
 * Requests for other exports between two consecutive requests for one export, at most, over all
 * exports: how far a wait can fall behind the others.
 */
function longestTurn(emulator: Emulator): number {
  const last = new Map<string, number>();
  let longest = 0;
  emulator.requests.forEach((request, index) => {
    if (request.exportId === undefined) return;
    const previous = last.get(request.exportId);
    if (previous !== undefined) longest = Math.max(longest, index - previous - 1);
    last.set(request.exportId, index);
  });
  return longest;
}

describe(`${WAITS} waits sharing an account of ${LIMITS.perMinute}/min and ${LIMITS.perHour}/h, ${TIME_SCALE} times faster`, { timeout: 120_000 }, () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    [env] = await Promise.all([createDevServerEnv(), workflowBundle()]);
  });
  after(async () => {
    await env?.teardown();
  });

  // The rate holds for the task queue as a whole: three workers each at 6.7 a second would together
  // ask 20 a second of a bucket refilling at 10, and meet 429s within seconds.
  test('three worker processes at the derived task-queue rate: all succeed, no request over budget, none refused, none left behind', async () => {
    const outcome = await waitForAll(env, processes(env, realTimeBudget(DEFAULT_BUDGET.share), 3));
    assertAllSucceeded(outcome);
    const stats = outcome.emulator.stats();
    assert.equal(stats.overBudget, 0);
    assert.equal(stats.rateLimited, 0);
    assert.equal(stats.byStatus[200], stats.total);
    // Served in turn: while one wait waits for its next poll, every other wait is polled about
    // once, plus the polls of waits whose cadence interval is shorter than a turn.
    assert.ok(longestTurn(outcome.emulator) < 2 * WAITS, `a wait fell ${longestTurn(outcome.emulator)} requests behind`);
  });

  test('with a worker allowed four times the account: 429s come, and every wait still succeeds', async () => {
    const outcome = await waitForAll(env, inProcess(env, realTimeBudget(4)));
    assertAllSucceeded(outcome);
    const stats = outcome.emulator.stats();
    assert.equal(stats.overBudget, 0);
    assert.ok(stats.rateLimited > 0, 'no request was refused: the test exercised no 429');
    assert.equal(stats.byStatus[200], stats.total - stats.rateLimited);
  });
});
