/**
 * Benchmark d: how many polls a second one worker process sustains, and the CPU time each costs it,
 * when the emulator answers at once and no budget holds anything back (emulator rate limit off,
 * the worker's budget so large that the server's own ceiling is the task queue's rate).
 *
 * Waits poll exports that stay running as fast as the server lets them retry, at several counts, until
 * the offered load exceeds what the dev server and the worker can turn around. Everything runs on
 * one machine: the dev server, the worker process and this process (emulator and Temporal client)
 * share its cores, and the table shows how busy each was.
 */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AccountBudget } from '../src/config';
import { startEmulator } from '../src/emulator';
import type { awaitExport } from '../src/workflows';
import { writeChart, type ChartSpec } from './lib/chart';
import { createBenchDevServer, withEnv } from './lib/harness';
import { formatTable, writeArtifact, type Machine } from './lib/report';
import { startBenchWorker } from './worker-process';

/**
 * Each wait asks for its next poll 1 ms after an answer, and the bench dev server lets a retry fire
 * about 5 ms after it is due, so a few dozen waits already offer more polls than the machine can
 * turn around. Beyond a few hundred, the dev server on 2 cores spends its time on contention.
 */
const WAIT_COUNTS = [10, 50, 200];
/** After every wait's first poll, so that workflow starts are over when the window opens. */
const WARMUP_MS = 5_000;
const WINDOW_MS = 15_000;
/** The largest limits the worker's configuration accepts: no budget to speak of. */
const LIFTED_BUDGET: AccountBudget = { perMinute: 999_999_999, perHour: 999_999_999, share: 1 };
const BUSY_CADENCE = { initialInterval: 1, maximumInterval: 1, jitter: 0 } as const;

interface Snapshot {
  at: number;
  requests: number;
  workerCpuMs: number;
  benchCpuMs: number;
  /** Busy and total CPU time of the whole machine, ms, summed over cores. */
  machineBusyMs: number;
  machineTotalMs: number;
}

interface Level {
  waits: number;
  /** The task queue's activity rate as the server reported it, per second. */
  serverRate: number;
  pollsPerSecond: number;
  workerCpuMsPerPoll: number;
  /** CPU time over wall time, in cores (1 = one core fully busy). */
  workerCores: number;
  benchCores: number;
  machineBusyShare: number;
  workerPeakRssMiB: number;
}

function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

async function measure(env: TestWorkflowEnvironment, waits: number): Promise<Level> {
  const emulator = await startEmulator({ rateLimit: false });
  const taskQueue = `bench-overhead-${randomUUID()}`;
  const worker = await startBenchWorker(env, emulator, taskQueue, LIFTED_BUDGET);
  try {
    const exportIds = Array.from({ length: waits }, () => emulator.createExport({ lifecycle: [{ status: 'running' }] }));
    const handles = await Promise.all(
      exportIds.map((exportId) =>
        env.client.workflow.start<typeof awaitExport>('awaitExport', {
          taskQueue,
          workflowId: `bench-overhead-${exportId}`,
          args: [{ exportId, ...BUSY_CADENCE }],
        }),
      ),
    );
    while (new Set(emulator.requests.map((r) => r.exportId)).size < waits) await sleep(500);
    await sleep(WARMUP_MS);
    const snapshot = (): Snapshot => {
      const cpu = process.cpuUsage();
      const machine = machineCpu();
      return {
        at: performance.now(),
        requests: emulator.requests.length,
        workerCpuMs: worker.usage().cpuMs,
        benchCpuMs: (cpu.user + cpu.system) / 1000,
        machineBusyMs: machine.busy,
        machineTotalMs: machine.total,
      };
    };
    const start = snapshot();
    await sleep(WINDOW_MS);
    const end = snapshot();

    for (const exportId of exportIds) emulator.setStatus(exportId, 'succeeded');
    const results = await Promise.all(handles.map((handle) => handle.result()));
    const unfinished = results.filter((result) => result.job.status !== 'succeeded').length;
    if (unfinished > 0) throw new Error(`overhead bench: ${unfinished} waits did not end succeeded`);

    const wallMs = end.at - start.at;
    const polls = end.requests - start.requests;
    return {
      waits,
      serverRate: worker.effectiveRate,
      pollsPerSecond: (polls * 1000) / wallMs,
      workerCpuMsPerPoll: (end.workerCpuMs - start.workerCpuMs) / polls,
      workerCores: (end.workerCpuMs - start.workerCpuMs) / wallMs,
      benchCores: (end.benchCpuMs - start.benchCpuMs) / wallMs,
      machineBusyShare: (end.machineBusyMs - start.machineBusyMs) / (end.machineTotalMs - start.machineTotalMs),
      workerPeakRssMiB: worker.usage().peakRssMiB,
    };
  } finally {
    await worker.stop();
    await emulator.close();
  }
}

/** Throughput and its CPU cost side by side, one bar per number of waits. */
function overheadChart(levels: readonly Level[]): ChartSpec {
  return {
    title: {
      text: 'Worker overhead, polling as fast as the server allows',
      subtitle: ['One worker process, dev server, emulator answering', 'at once; all on one machine.'],
    },
    data: {
      values: levels.flatMap((l) => [
        { waits: l.waits, measure: 'polls per second', value: l.pollsPerSecond, label: l.pollsPerSecond.toFixed(0) },
        { waits: l.waits, measure: 'worker CPU per poll, ms', value: l.workerCpuMsPerPoll, label: l.workerCpuMsPerPoll.toFixed(1) },
      ]),
    },
    facet: { column: { field: 'measure', type: 'nominal', title: null, header: { labelFontSize: 13 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 240,
      height: 240,
      encoding: {
        x: { field: 'waits', type: 'ordinal', title: 'waits polling at once', axis: { labelAngle: 0 } },
        y: { field: 'value', type: 'quantitative', title: null },
      },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' } },
        { mark: { type: 'text', baseline: 'bottom', dy: -3 }, encoding: { text: { field: 'label' } } },
      ],
    },
  };
}

export async function overheadBench(machine: Machine): Promise<void> {
  const levels = await withEnv(createBenchDevServer, async (env) => {
    const measured: Level[] = [];
    for (const waits of WAIT_COUNTS) measured.push(await measure(env, waits));
    return measured;
  });

  console.log('\n## d. Worker overhead (dev server, emulator answering at once, no budget)\n');
  console.log(
    formatTable(
      ['waits', 'polls/s', 'worker CPU/poll', 'worker', 'emulator+client', `machine (${machine.cores} cores)`, 'worker peak RSS'],
      levels.map((l) => [
        String(l.waits),
        l.pollsPerSecond.toFixed(0),
        `${l.workerCpuMsPerPoll.toFixed(2)} ms`,
        `${(l.workerCores * 100).toFixed(0)} % of a core`,
        `${(l.benchCores * 100).toFixed(0)} % of a core`,
        `${(l.machineBusyShare * 100).toFixed(0)} % busy`,
        `${l.workerPeakRssMiB.toFixed(0)} MiB`,
      ]),
    ),
  );
  const best = levels.reduce((a, b) => (b.pollsPerSecond > a.pollsPerSecond ? b : a));
  console.log(
    `\nPolls measured over ${WINDOW_MS / 1000} s, from ${WARMUP_MS / 1000} s after every wait's first poll; each wait asks for its next poll 1 ms after an answer.` +
      ` At ${best.workerCpuMsPerPoll.toFixed(2)} ms a poll, one worker core would serve about` +
      ` ${(1000 / best.workerCpuMsPerPoll).toFixed(0)} polls/s; the default budget asks for 2.2.` +
      ` The rest of the machine's time goes to the dev server.`,
  );
  const file = writeArtifact('overhead', {
    benchmark: 'worker overhead',
    machine,
    server: 'dev server',
    warmupMs: WARMUP_MS,
    windowMs: WINDOW_MS,
    cadence: BUSY_CADENCE,
    levels,
  });
  console.log(`raw figures: ${file}; chart: ${await writeChart('overhead', overheadChart(levels))}`);
}
