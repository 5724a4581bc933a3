/**
 * Benchmark c: a thousand waits at once on one worker process, inside one account's budget.
 *
 * The emulator enforces the documented limits (200 a minute, 10,000 an hour) on a clock running
 * `TIME_SCALE` times faster than the real one; the worker is configured with the same limits in
 * real time (×`TIME_SCALE`) and the default 80 % share, and every wait runs the default cadence
 * compressed by the same factor. Ratios are therefore those of a real account, and every figure
 * below is given in account (emulated) time unless it says real.
 *
 * Each wait starts with its own export, which turns `running` after a tenth of its length and
 * `succeeded` at its end; lengths spread evenly over `JOB_MS`. A thousand waits ask for far more
 * than the budget (one poll a minute each at the cadence's ceiling, 16.7/s, against 2.2/s), so the
 * task queue's backlog serves them in turn: a wait is polled again within one turn through the
 * backlog (waits / rate ≈ 7.5 minutes) after its cadence delay (at most a minute).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_BUDGET, taskQueueActivitiesPerSecond, type AccountBudget } from '../src/config';
import { startEmulator, type Emulator } from '../src/emulator';
import type { awaitExport } from '../src/workflows';
import { writeChart, type ChartSpec } from './lib/chart';
import { createBenchDevServer, scaledCadence, withEnv } from './lib/harness';
import { formatDuration, formatTable, percentile, writeArtifact, type Machine } from './lib/report';
import { startBenchWorker } from './worker-process';

const WAITS = 1_000;
/** Keeps the run under 4 minutes of real time on 2 cores: the budget is then 22 polls a real second. */
const TIME_SCALE = 10;
/** Export lengths, account ms. */
const JOB_MS = { min: 60_000, max: 25 * 60_000 };
/** Workflow starts in flight at once. */
const START_CONCURRENCY = 25;
/** Gives up if the waits have not all ended this long (real ms) after the longest export's end. */
const GRACE_MS = 180_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

interface WaitRecord {
  exportId: string;
  jobMs: number;
  status: string;
  requests: number;
  rateLimited: number;
  /** Export terminal in the emulator → workflow closed, account ms. */
  delayMs: number;
  /** Longest time between two consecutive requests for this export, account ms. */
  longestGapMs: number;
}

/** A real-time span in account ms. */
function toAccountMs(realMs: number): number {
  return realMs * TIME_SCALE;
}

/** Real epoch ms of the admitted requests (429s took no token). */
function admittedAt(emulator: Emulator): number[] {
  return emulator.requests.filter((r) => r.status !== 429).map((r) => r.at);
}

/** Most requests admitted within any `windowMs` of account time. */
function busiestWindow(admitted: readonly number[], windowMs: number): number {
  const windowRealMs = windowMs / TIME_SCALE;
  let most = 0;
  let first = 0;
  admitted.forEach((at, last) => {
    while ((admitted[first] ?? at) <= at - windowRealMs) first += 1;
    most = Math.max(most, last - first + 1);
  });
  return most;
}

/** Requests admitted in each account minute since `startedAt` (real epoch ms). */
function perMinute(admitted: readonly number[], startedAt: number): number[] {
  const counts: number[] = [];
  for (const at of admitted) {
    const minute = Math.floor(toAccountMs(at - startedAt) / MINUTE_MS);
    while (counts.length <= minute) counts.push(0);
    counts[minute] = (counts[minute] ?? 0) + 1;
  }
  return counts;
}

function recordOf(emulator: Emulator, exportId: string, jobMs: number, info: WorkflowExecutionInfo | undefined): WaitRecord {
  const requests = emulator.requests.filter((r) => r.exportId === exportId);
  const terminalAt = emulator.terminalAt(exportId);
  const closeAt = info?.closeTime?.getTime();
  let longestGapMs = 0;
  requests.forEach((r, i) => {
    const previous = requests[i - 1];
    if (previous !== undefined) longestGapMs = Math.max(longestGapMs, toAccountMs(r.at - previous.at));
  });
  return {
    exportId,
    jobMs,
    status: info?.status.name ?? 'MISSING',
    requests: requests.length,
    rateLimited: requests.filter((r) => r.status === 429).length,
    delayMs: terminalAt === undefined || closeAt === undefined ? NaN : toAccountMs(closeAt - terminalAt),
    longestGapMs,
  };
}

/** Every wait of `taskQueue` once all have closed, by workflow id. */
async function closedWaits(env: TestWorkflowEnvironment, taskQueue: string, deadline: number): Promise<Map<string, WorkflowExecutionInfo>> {
  const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus != "Running"`;
  while ((await env.client.workflow.count(query)).count < WAITS) {
    if (Date.now() > deadline) throw new Error(`thousand bench: waits still running ${formatDuration(GRACE_MS)} after the last export ended`);
    await sleep(2_000);
  }
  const closed = new Map<string, WorkflowExecutionInfo>();
  for await (const info of env.client.workflow.list({ query })) closed.set(info.workflowId, info);
  return closed;
}

interface Run {
  records: WaitRecord[];
  /** Real epoch ms. */
  startedAt: number;
  startPhaseMs: number;
  runMs: number;
}

/** Starts the waits, each with its own export, and collects them once all have closed. */
async function runWaits(env: TestWorkflowEnvironment, emulator: Emulator, taskQueue: string): Promise<Run> {
  const started = Date.now();
  const jobs = Array.from({ length: WAITS }, (_, k) => ({
    jobMs: JOB_MS.min + ((JOB_MS.max - JOB_MS.min) * k) / (WAITS - 1),
    exportId: '',
  }));
  // Shuffled, so that start order (and with it the place in the first turn) says nothing of length.
  for (let i = jobs.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: START_CONCURRENCY }, async () => {
      for (let job = jobs[next++]; job !== undefined; job = jobs[next++]) {
        job.exportId = emulator.createExport({
          lifecycle: [
            { status: 'running', afterMs: job.jobMs / 10 },
            { status: 'succeeded', afterMs: job.jobMs },
          ],
        });
        await env.client.workflow.start<typeof awaitExport>('awaitExport', {
          taskQueue,
          workflowId: `bench-thousand-${job.exportId}`,
          args: [{ exportId: job.exportId, ...scaledCadence(TIME_SCALE) }],
        });
      }
    }),
  );
  const startPhaseMs = Date.now() - started;
  const closed = await closedWaits(env, taskQueue, Date.now() + JOB_MS.max / TIME_SCALE + GRACE_MS);
  return {
    records: jobs.map((job) => recordOf(emulator, job.exportId, job.jobMs, closed.get(`bench-thousand-${job.exportId}`))),
    startedAt: started,
    startPhaseMs,
    runMs: Date.now() - started,
  };
}

/** Requests admitted in each account minute, against the account's limit and the budget's rate. */
function thousandChart(admittedPerMinute: readonly number[], budgetPerHour: number): ChartSpec {
  const lines = [
    { label: `account limit, ${DEFAULT_BUDGET.perMinute}/min`, requests: DEFAULT_BUDGET.perMinute },
    { label: `budget, ${DEFAULT_BUDGET.share * 100} % of ${DEFAULT_BUDGET.perHour.toLocaleString('en-US')}/h: ${(budgetPerHour / 60).toFixed(0)}/min`, requests: budgetPerHour / 60 },
  ];
  return {
    title: {
      text: `API requests per account minute, ${WAITS.toLocaleString('en-US')} waits`,
      subtitle: [`One worker, dev server; account time ×${TIME_SCALE}.`, 'Requests the emulator admitted.'],
    },
    width: 560,
    height: 300,
    layer: [
      {
        data: { values: admittedPerMinute.map((requests, minute) => ({ minute, requests })) },
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: { field: 'minute', type: 'ordinal', title: 'account minute since the first start', axis: { labelAngle: 0 } },
          y: { field: 'requests', type: 'quantitative', title: 'requests admitted' },
        },
      },
      {
        data: { values: lines },
        layer: [
          { mark: { type: 'rule', strokeDash: [6, 4], color: '#e45756' }, encoding: { y: { field: 'requests', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -3, color: '#e45756' },
            encoding: { y: { field: 'requests', type: 'quantitative' }, x: { value: { expr: 'width' } }, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
}

export async function thousandBench(machine: Machine): Promise<void> {
  const budget: AccountBudget = {
    perMinute: DEFAULT_BUDGET.perMinute * TIME_SCALE,
    perHour: DEFAULT_BUDGET.perHour * TIME_SCALE,
    share: DEFAULT_BUDGET.share,
  };
  const emulator = await startEmulator({ timeScale: TIME_SCALE });
  const { run, usage, effectiveRate } = await withEnv(createBenchDevServer, async (env) => {
    const taskQueue = `bench-thousand-${randomUUID()}`;
    const worker = await startBenchWorker(env, emulator, taskQueue, budget);
    try {
      return { run: await runWaits(env, emulator, taskQueue), usage: worker.usage(), effectiveRate: worker.effectiveRate };
    } finally {
      await worker.stop();
    }
  }).finally(() => emulator.close());
  const { records, startedAt, startPhaseMs, runMs } = run;

  const stats = emulator.stats();
  const completed = records.filter((r) => r.status === 'COMPLETED').length;
  const delays = records.filter((r) => r.status === 'COMPLETED').map((r) => r.delayMs);
  const runAccountMs = toAccountMs(runMs);
  const budgetRate = taskQueueActivitiesPerSecond(DEFAULT_BUDGET);
  // A turn through every wait's backlog task, then at most the cadence's ceiling before the next.
  const turnBoundMs = (WAITS / budgetRate) * 1000 + MINUTE_MS;
  const admitted = admittedAt(emulator);
  const gaps = records.map((r) => r.longestGapMs);
  const perMinuteCounts = perMinute(admitted, startedAt);
  const summary = {
    waits: WAITS,
    completed,
    failed: WAITS - completed,
    requests: stats.total,
    rateLimited: stats.rateLimited,
    overBudget: stats.overBudget,
    runAccountMs,
    requestsPerAccountHour: (admitted.length / runAccountMs) * HOUR_MS,
    budgetPerHour: budgetRate * 3_600,
    busiestMinute: busiestWindow(admitted, MINUTE_MS),
    serverRatePerRealSecond: effectiveRate,
    delayP50Ms: percentile(delays, 0.5),
    delayP95Ms: percentile(delays, 0.95),
    delayMaxMs: percentile(delays, 1),
    longestGapP95Ms: percentile(gaps, 0.95),
    longestGapMaxMs: percentile(gaps, 1),
    gapBoundMs: turnBoundMs,
    workerPeakRssMiB: usage.peakRssMiB,
    workerCpuMs: usage.cpuMs,
    startPhaseRealMs: startPhaseMs,
    runRealMs: runMs,
  };

  console.log(`\n## c. ${WAITS} waits at once on one worker (dev server; account time ×${TIME_SCALE}, figures in account time)\n`);
  console.log(
    formatTable(
      ['measure', 'value', 'target / bound'],
      [
        ['completed', `${completed} of ${WAITS}`, `${WAITS} of ${WAITS}`],
        ['failed', String(summary.failed), '0'],
        ['429s received', String(stats.rateLimited), '0 expected'],
        ['requests beyond the budget (emulator audit)', String(stats.overBudget), '0'],
        ['requests', `${stats.total} in ${formatDuration(runAccountMs)}`, ''],
        ['requests per hour, average', summary.requestsPerAccountHour.toFixed(0), `${summary.budgetPerHour.toFixed(0)} (80 % of 10,000)`],
        ['busiest minute', String(summary.busiestMinute), `200 (limit)`],
        ['detection delay p50', formatDuration(summary.delayP50Ms), ''],
        ['detection delay p95', formatDuration(summary.delayP95Ms), ''],
        ['detection delay max', formatDuration(summary.delayMaxMs), ''],
        ['longest gap between polls of one export, p95', formatDuration(summary.longestGapP95Ms), `${formatDuration(turnBoundMs)}`],
        ['longest gap between polls of one export, max', formatDuration(summary.longestGapMaxMs), `${formatDuration(turnBoundMs)}`],
        ['worker peak RSS', `${summary.workerPeakRssMiB.toFixed(0)} MiB`, ''],
        ['worker CPU, whole run', `${(summary.workerCpuMs / 1000).toFixed(1)} s`, ''],
      ],
    ),
  );
  console.log(
    `\nExport lengths ${formatDuration(JOB_MS.min)} to ${formatDuration(JOB_MS.max)}, spread evenly; the server paced the task queue` +
      ` at ${effectiveRate.toFixed(1)} activities a real second (${(effectiveRate / TIME_SCALE).toFixed(2)}/s of account time).` +
      ` Starting the waits took ${formatDuration(startPhaseMs)} real; the run ${formatDuration(runMs)} real.` +
      ` Bound: ${WAITS} waits / ${budgetRate.toFixed(2)} per s + the 1-minute cadence ceiling; an export that ends before its` +
      ` wait's first poll is noticed by that poll, which queues behind every other wait's first poll.`,
  );
  const file = writeArtifact('thousand', {
    benchmark: 'a thousand waits at once',
    machine,
    server: 'dev server',
    timeScale: TIME_SCALE,
    budget: DEFAULT_BUDGET,
    jobMs: JOB_MS,
    summary,
    admittedPerAccountMinute: perMinuteCounts,
    waits: records,
  });
  const chart = await writeChart('thousand', thousandChart(perMinuteCounts, summary.budgetPerHour));
  console.log(`raw figures: ${file}; chart: ${chart}`);
}
