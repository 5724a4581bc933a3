/**
 * Benchmark a: history events per export for waits of 1 minute, 1 hour and 24 hours, for
 * `awaitExport` at its default cadence and the two usual baselines.
 *
 * Each export turns `running` after its first poll and `succeeded` once the wait has lasted its
 * length (set by hand, so the figure does not depend on the emulator's clock). The time-skipping
 * test server runs every wait in seconds; the dev server cross-checks the 1-minute wait with the
 * cadence compressed ×10 (events depend on the polls, not on the length of their intervals).
 */
import { msToNumber } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_CADENCE } from '../src/cadence';
import { startEmulator } from '../src/emulator';
import { createTimeSkippingEnv } from '../test/helpers/temporal';
import {
  STRATEGY_LABELS,
  createBenchDevServer,
  finalStatus,
  historyCost,
  requestsFor,
  startWait,
  startWorker,
  withEnv,
  type Strategy,
} from './lib/harness';
import { logDecades, writeChart, type ChartSpec } from './lib/chart';
import { formatDuration, formatTable, writeArtifact, type Machine } from './lib/report';

const WAITS_MS = [60_000, 3_600_000, 86_400_000];
const STRATEGIES: readonly Strategy[] = ['awaitExport', 'plainLoop', 'activityRetry'];
/** Temporal's polling sample retries every minute; it is also `awaitExport`'s ceiling. */
const RETRY_INTERVAL_MS = msToNumber(DEFAULT_CADENCE.maximumInterval);
const DEV_SERVER_SCALE = 10;
const TIME_SKIPPING_SERVER = 'time-skipping test server';

interface HistoryRow {
  server: string;
  strategy: Strategy;
  waitMs: number;
  /** Cadence compression; 1 = the real default cadence. */
  scale: number;
  events: number;
  runs: number;
  historyBytes: number | null;
  requests: number;
  status: string;
}

/**
 * Runs one wait after the other (concurrent waits slow the time-skipping server down by far more
 * than they save): the export starts, and turns `succeeded` once `waitMs / scale` has passed on
 * the server's clock, skipped or real.
 */
async function measure(env: TestWorkflowEnvironment, server: string, waitsMs: number[], scale: number): Promise<HistoryRow[]> {
  // Off: skipped time makes polls arrive far faster in real time than the account's budget allows.
  const emulator = await startEmulator({ rateLimit: false });
  const worker = await startWorker(env, emulator);
  const rows: HistoryRow[] = [];
  try {
    for (const waitMs of waitsMs) {
      for (const strategy of STRATEGIES) {
        const exportId = emulator.createExport({ lifecycle: [{ status: 'running', afterPolls: 1 }] });
        const handle = await startWait(env.client, worker.taskQueue, {
          strategy,
          exportId,
          scale,
          intervalMs: RETRY_INTERVAL_MS / scale,
        });
        // Only after the sleep: on the time-skipping server, awaiting a result lets time run
        // freely, which would move the clock past the moment the export is meant to end.
        await env.sleep(waitMs / scale);
        emulator.setStatus(exportId, 'succeeded');
        const status = await finalStatus(handle);
        const cost = await historyCost(env.client, handle.workflowId, handle.firstExecutionRunId);
        rows.push({
          server,
          strategy,
          waitMs,
          scale,
          events: cost.events,
          runs: cost.runs,
          historyBytes: cost.bytes,
          requests: requestsFor(emulator, exportId),
          status,
        });
      }
    }
    return rows;
  } finally {
    await worker.stop();
    await emulator.close();
  }
}

/** The time-skipping server's rows (every wait length); the dev server only cross-checks the shortest. */
function historyChart(rows: readonly HistoryRow[]): ChartSpec {
  const strategies = STRATEGIES.map((s) => STRATEGY_LABELS[s]);
  const shown = rows.filter((r) => r.server === TIME_SKIPPING_SERVER);
  return {
    title: {
      text: 'History events per export, by wait length',
      subtitle: ['Time-skipping test server, default cadence;', 'activity-retry polling every minute.'],
    },
    data: {
      values: shown.map((r) => ({ wait: formatDuration(r.waitMs), strategy: STRATEGY_LABELS[r.strategy], events: r.events })),
    },
    width: 560,
    height: 320,
    encoding: {
      x: { field: 'wait', type: 'ordinal', sort: WAITS_MS.map(formatDuration), title: 'wait', axis: { labelAngle: 0 } },
      xOffset: { field: 'strategy', type: 'nominal', sort: strategies },
      y: {
        field: 'events',
        type: 'quantitative',
        // From 1, so that a short bar still reads as a count; room above the tallest bar for its label.
        ...logDecades(1, Math.max(...shown.map((r) => r.events)) * 2),
        // Stacking would start every bar at 0, which a log scale cannot show.
        stack: null,
        title: 'history events (log scale)',
      },
      color: { field: 'strategy', type: 'nominal', sort: strategies, title: null, legend: { orient: 'top-left', labelLimit: 300, fillColor: 'white' } },
    },
    layer: [
      { mark: 'bar' },
      { mark: { type: 'text', baseline: 'bottom', dy: -3 }, encoding: { text: { field: 'events', format: ',' }, color: { value: 'black' } } },
    ],
  };
}

export async function historyBench(machine: Machine): Promise<void> {
  const rows = [
    ...(await withEnv(createTimeSkippingEnv, (env) => measure(env, TIME_SKIPPING_SERVER, WAITS_MS, 1))),
    ...(await withEnv(createBenchDevServer, (env) => measure(env, `dev server, ×${DEV_SERVER_SCALE} compressed`, [60_000], DEV_SERVER_SCALE))),
  ];
  const notFinished = rows.filter((r) => r.status !== 'succeeded');
  if (notFinished.length > 0) throw new Error(`history bench: ${notFinished.length} waits did not end succeeded`);

  const cell = (server: string, waitMs: number, strategy: Strategy): string => {
    const row = rows.find((r) => r.server === server && r.waitMs === waitMs && r.strategy === strategy);
    if (row === undefined) return '';
    return `${row.events.toLocaleString('en-US')} (${row.requests.toLocaleString('en-US')} req)`;
  };
  const servers = [...new Set(rows.map((r) => r.server))];
  const table = servers.flatMap((server) =>
    WAITS_MS.filter((waitMs) => rows.some((r) => r.server === server && r.waitMs === waitMs)).map((waitMs) => [
      formatDuration(waitMs),
      ...STRATEGIES.map((strategy) => cell(server, waitMs, strategy)),
      server,
    ]),
  );
  console.log('\n## a. History events per export (all runs together), and API requests made\n');
  console.log(formatTable(['wait', ...STRATEGIES.map((s) => STRATEGY_LABELS[s]), 'server'], table));
  const sized = rows.filter((r) => r.historyBytes !== null);
  if (sized.length > 0) {
    const sizes = sized.map((r) => `${STRATEGY_LABELS[r.strategy]} ${r.historyBytes?.toLocaleString('en-US')} B`);
    console.log(`\nHistory size, ${formatDuration(sized[0]?.waitMs ?? 0)} wait on the dev server: ${sizes.join(', ')}.`);
  }
  console.log(
    `\nawaitExport at its default cadence (5 s × 1.5 up to 1 min, ±10 % jitter); the loop at the same` +
      ` intervals without jitter; activity-retry polling every ${formatDuration(RETRY_INTERVAL_MS)}.` +
      ` Emulator rate limit off.`,
  );
  const file = writeArtifact('history', {
    benchmark: 'history events per export',
    machine,
    retryIntervalMs: RETRY_INTERVAL_MS,
    rows,
  });
  console.log(`raw figures: ${file}; chart: ${await writeChart('history', historyChart(rows))}`);
}
