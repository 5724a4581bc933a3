/**
 * Benchmark b: API requests per export against detection delay (from the export turning terminal
 * in the emulator to the wait's workflow closing), for jobs of 10 s to 6 h, on the dev server.
 *
 * Time is compressed per job length: the emulator's clock runs `scale` times faster and every
 * cadence interval is divided by `scale`, so that a 6-hour job takes a minute. Figures are given
 * back in job time: intervals and the polling part of the delay (export terminal → the request
 * that saw it) are multiplied by `scale`; the noticing part (that request → workflow closed: the
 * answer, an activity completion and a workflow task) is a fixed cost of real time, added
 * unscaled. What compression cannot undo is the lag each poll adds to its interval (dispatch and
 * answer, a few ms real, × scale in job time); the table shows it.
 *
 * Each job length runs on several exports whose lengths spread evenly over ±10 %, so that the
 * polls meet the end of the job at every phase. Fixed-interval polling (activity-retry polling,
 * backoff 1) runs at two intervals: the job length over ours' mean request count (same requests:
 * compare delays), and ours' p95 delay (about the same p95: compare requests, as issue 5's target
 * does). Emulator rate limit off: this is about cadence.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startEmulator, type Emulator } from '../src/emulator';
import {
  createBenchDevServer,
  finalStatus,
  requestsFor,
  startWait,
  startWorker,
  withEnv,
  type BenchWorker,
  type Strategy,
} from './lib/harness';
import { logDecades, writeChart, type ChartSpec } from './lib/chart';
import { formatDuration, formatTable, mean, percentile, writeArtifact, type Machine } from './lib/report';

/**
 * Job length (job ms), compression, and exports per strategy. Each job takes at most ~70 s of real
 * time per phase. A poll costs about 20 ms of CPU (worker and dev server together), so a 6-hour job
 * (360 polls per wait) gets 3 exports and an hour 5, to keep the polls of all waits together well
 * below what 2 cores sustain: past that, every poll lags and compression multiplies the lag.
 */
const JOBS = [
  { jobMs: 10_000, scale: 1, samples: 10 },
  { jobMs: 60_000, scale: 2, samples: 10 },
  { jobMs: 600_000, scale: 20, samples: 10 },
  { jobMs: 3_600_000, scale: 60, samples: 5 },
  { jobMs: 21_600_000, scale: 360, samples: 3 },
] as const;
type Job = (typeof JOBS)[number];
const SPREAD = 0.1;

type Variant = 'awaitExport' | 'fixedSameRequests' | 'fixedSameP95';
const VARIANT_LABELS: Record<Variant, string> = {
  awaitExport: 'awaitExport (ours)',
  fixedSameRequests: 'fixed, same requests',
  fixedSameP95: "fixed, interval = ours' p95",
};

interface Sample {
  variant: Variant;
  jobMs: number;
  scale: number;
  /** This export's own length, job ms. */
  exportMs: number;
  /** Fixed-interval variants: the interval, job ms. */
  intervalMs?: number;
  requests: number;
  /** Terminal → workflow closed in job ms: `pollingRealMs × scale + noticingRealMs`. */
  delayMs: number;
  /** Terminal in the emulator → arrival of the request that saw it, real ms. */
  pollingRealMs: number;
  /** That arrival → workflow closed, real ms. */
  noticingRealMs: number;
  /** Fixed-interval variants: mean gap between requests minus the interval, real ms. */
  pollLagRealMs?: number;
}

interface Run {
  env: TestWorkflowEnvironment;
  emulator: Emulator;
  worker: BenchWorker;
  job: Job;
}

async function measureWait(run: Run, handle: WorkflowHandleWithFirstExecutionRunId, exportId: string, realIntervalMs?: number) {
  const status = await finalStatus(handle);
  if (status !== 'succeeded') throw new Error(`delay bench: export ${exportId} ended ${status}`);
  const closeMs = (await handle.describe()).closeTime?.getTime();
  const terminalAt = run.emulator.terminalAt(exportId);
  if (closeMs === undefined || terminalAt === undefined) throw new Error(`delay bench: ${exportId} has no end time`);
  const arrivals = run.emulator.requests.filter((r) => r.exportId === exportId).map((r) => r.at);
  const first = Math.min(...arrivals);
  const last = Math.max(...arrivals);
  const pollingRealMs = last - terminalAt;
  const noticingRealMs = closeMs - last;
  return {
    requests: requestsFor(run.emulator, exportId),
    delayMs: pollingRealMs * run.job.scale + noticingRealMs,
    pollingRealMs,
    noticingRealMs,
    ...(realIntervalMs === undefined || arrivals.length < 2
      ? {}
      : { pollLagRealMs: (last - first) / (arrivals.length - 1) - realIntervalMs }),
  };
}

/** `job.samples` exports of about the job's length, each awaited by `variant`, all at once. */
async function runVariant(run: Run, variant: Variant, intervalMs?: number): Promise<Sample[]> {
  const { job, emulator, env, worker } = run;
  const strategy: Strategy = variant === 'awaitExport' ? 'awaitExport' : 'activityRetry';
  // Real ms for the workflow, whole and at least 1; reported as what was actually used.
  const realIntervalMs = intervalMs === undefined ? undefined : Math.max(1, Math.round(intervalMs / job.scale));
  const exports = Array.from({ length: job.samples }, (_, k) => {
    const exportMs = job.jobMs * (1 - SPREAD + (2 * SPREAD * (k + 0.5)) / job.samples);
    const lifecycle = [
      { status: 'running' as const, afterMs: exportMs / 10 },
      { status: 'succeeded' as const, afterMs: exportMs },
    ];
    return { exportMs, exportId: emulator.createExport({ lifecycle }) };
  });
  return Promise.all(
    exports.map(async ({ exportMs, exportId }): Promise<Sample> => {
      const handle = await startWait(env.client, worker.taskQueue, {
        strategy,
        exportId,
        scale: job.scale,
        ...(realIntervalMs === undefined ? {} : { intervalMs: realIntervalMs }),
      });
      return {
        variant,
        jobMs: job.jobMs,
        scale: job.scale,
        exportMs,
        ...(realIntervalMs === undefined ? {} : { intervalMs: realIntervalMs * job.scale }),
        ...(await measureWait(run, handle, exportId, realIntervalMs)),
      };
    }),
  );
}

/** Ours first; the fixed intervals follow from what ours measured, and run side by side. */
async function measureJob(env: TestWorkflowEnvironment, job: Job): Promise<Sample[]> {
  const emulator = await startEmulator({ timeScale: job.scale, rateLimit: false });
  const worker = await startWorker(env, emulator);
  const run: Run = { env, emulator, worker, job };
  try {
    const ours = await runVariant(run, 'awaitExport');
    const sameRequests = job.jobMs / mean(ours.map((s) => s.requests));
    const sameP95 = percentile(
      ours.map((s) => s.delayMs),
      0.95,
    );
    const fixed = await Promise.all([runVariant(run, 'fixedSameRequests', sameRequests), runVariant(run, 'fixedSameP95', sameP95)]);
    return [...ours, ...fixed.flat()];
  } finally {
    await worker.stop();
    await emulator.close();
  }
}

interface Summary {
  variant: Variant;
  jobMs: number;
  scale: number;
  samples: number;
  intervalMs: number | undefined;
  requests: number;
  delayP50Ms: number;
  delayP95Ms: number;
  delayMaxMs: number;
  noticingRealP50Ms: number;
  /** Fixed-interval variants only. */
  pollLagRealP50Ms: number | undefined;
}

function summarize(samples: Sample[]): Summary[] {
  return JOBS.flatMap((job) =>
    (Object.keys(VARIANT_LABELS) as Variant[]).map((variant) => {
      const group = samples.filter((s) => s.jobMs === job.jobMs && s.variant === variant);
      const delays = group.map((s) => s.delayMs);
      const lags = group.flatMap((s) => (s.pollLagRealMs === undefined ? [] : [s.pollLagRealMs]));
      return {
        variant,
        jobMs: job.jobMs,
        scale: job.scale,
        samples: group.length,
        intervalMs: group[0]?.intervalMs,
        requests: mean(group.map((s) => s.requests)),
        delayP50Ms: percentile(delays, 0.5),
        delayP95Ms: percentile(delays, 0.95),
        delayMaxMs: percentile(delays, 1),
        noticingRealP50Ms: percentile(
          group.map((s) => s.noticingRealMs),
          0.5,
        ),
        pollLagRealP50Ms: lags.length === 0 ? undefined : percentile(lags, 0.5),
      };
    }),
  );
}

function printTables(summary: Summary[], samples: Sample[]): void {
  console.log('\n## b. Requests per export vs detection delay (dev server, time-compressed, figures in job time)\n');
  console.log(
    formatTable(
      ['job', 'scale', 'n', 'strategy', 'interval', 'requests', 'delay p50', 'p95', 'max', 'lag/poll'],
      summary.map((s) => [
        formatDuration(s.jobMs),
        `×${s.scale}`,
        String(s.samples),
        VARIANT_LABELS[s.variant],
        s.intervalMs === undefined ? 'cadence' : formatDuration(s.intervalMs),
        s.requests.toFixed(1),
        formatDuration(s.delayP50Ms),
        formatDuration(s.delayP95Ms),
        formatDuration(s.delayMaxMs),
        s.pollLagRealP50Ms === undefined ? '' : formatDuration(s.pollLagRealP50Ms * s.scale),
      ]),
    ),
  );

  const target = JOBS.map((job) => {
    const of = (variant: Variant) => summary.find((s) => s.jobMs === job.jobMs && s.variant === variant);
    const ours = of('awaitExport');
    const fixed = of('fixedSameP95');
    if (ours === undefined || fixed === undefined) throw new Error('delay bench: a variant is missing');
    const ratio = ours.requests / fixed.requests;
    return [
      formatDuration(job.jobMs),
      ours.requests.toFixed(1),
      fixed.requests.toFixed(1),
      `${(ratio * 100).toFixed(0)} %`,
      formatDuration(ours.delayP95Ms),
      formatDuration(fixed.delayP95Ms),
      ratio <= 0.5 && ours.delayP95Ms <= fixed.delayP95Ms ? 'met' : 'missed',
    ];
  });
  console.log("\nIssue 5 target: ours ≤ 50 % of fixed polling's requests at an equal or better p95 delay\n");
  console.log(formatTable(['job', 'ours req', 'fixed req', 'ours/fixed', 'ours p95', 'fixed p95', 'target'], target));

  const noticing = percentile(
    samples.map((s) => s.noticingRealMs),
    0.5,
  );
  console.log(
    `\nn exports per job length and strategy, lengths spread ±${SPREAD * 100} %; percentiles nearest-rank.` +
      ` Delay = (terminal → request that saw it) × scale + (that request → workflow closed, unscaled;` +
      ` median ${formatDuration(noticing)}). lag/poll: how much longer than its interval a fixed poll took,` +
      ` real × scale, i.e. how far compression stretches each interval.`,
  );
}

/** One point per job length and strategy; a grey line joins the three strategies of a job. */
function delayChart(summary: readonly Summary[]): ChartSpec {
  const variants = Object.values(VARIANT_LABELS);
  const points = summary.map((s) => ({
    job: formatDuration(s.jobMs),
    strategy: VARIANT_LABELS[s.variant],
    ours: s.variant === 'awaitExport',
    requests: s.requests,
    delayS: s.delayP95Ms / 1000,
  }));
  const requests = points.map((p) => p.requests);
  const delaysS = points.map((p) => p.delayS);
  return {
    title: {
      text: 'API requests per export vs p95 detection delay',
      subtitle: ['Per job length (labelled at ours); dev server,', 'time-compressed, figures in job time.'],
    },
    data: { values: points },
    width: 560,
    height: 380,
    encoding: {
      x: { field: 'requests', type: 'quantitative', ...logDecades(Math.min(...requests), Math.max(...requests)), title: 'API requests per export, mean (log scale)' },
      y: { field: 'delayS', type: 'quantitative', ...logDecades(Math.min(...delaysS), Math.max(...delaysS)), title: 'p95 detection delay, s (log scale)' },
    },
    layer: [
      { mark: { type: 'line', color: '#bbb', strokeWidth: 1 }, encoding: { detail: { field: 'job', type: 'nominal' }, order: { field: 'requests' } } },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 1 },
        encoding: {
          color: { field: 'strategy', type: 'nominal', sort: variants, title: null, legend: { orient: 'top-left', labelLimit: 300, fillColor: 'white' } },
          shape: { field: 'strategy', type: 'nominal', sort: variants },
        },
      },
      {
        transform: [{ filter: 'datum.ours' }],
        mark: { type: 'text', align: 'left', dx: 8, dy: -8, fontWeight: 'bold' },
        encoding: { text: { field: 'job' } },
      },
    ],
  };
}

export async function delayBench(machine: Machine): Promise<void> {
  const samples = await withEnv(createBenchDevServer, async (env) =>
    (await Promise.all(JOBS.map((job) => measureJob(env, job)))).flat(),
  );
  const summary = summarize(samples);
  printTables(summary, samples);
  const file = writeArtifact('delay', {
    benchmark: 'requests vs detection delay',
    machine,
    server: 'dev server (history.timerProcessorMaxTimeShift 5ms, timer/transfer MaxPollRPS 1000)',
    spread: SPREAD,
    summary,
    samples,
  });
  console.log(`raw figures: ${file}; chart: ${await writeChart('delay', delayChart(summary))}`);
}
