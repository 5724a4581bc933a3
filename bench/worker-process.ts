/**
 * The export worker in a process of its own, running the production workflow bundle, for the
 * benchmarks that measure the worker itself: its CPU time and peak memory come from Linux's /proc,
 * apart from the benchmark's process, which hosts the emulator and the Temporal client.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { AccountBudget } from '../src/config';
import type { Emulator } from '../src/emulator';
import { WORKFLOWS_PATH } from '../src/worker';
import { startWorkerProcess, writeWorkflowBundle, type WorkerProcess } from '../test/helpers/worker-process';

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

export interface ProcessUsage {
  /** User + system CPU time since the process started, ms. */
  cpuMs: number;
  /** Peak resident set size (VmHWM), MiB. */
  peakRssMiB: number;
}

export interface BenchWorkerProcess extends WorkerProcess {
  usage(): ProcessUsage;
}

function usageOf(pid: number): ProcessUsage {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwmKiB = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS, peakRssMiB: hwmKiB / 1024 };
}

let productionBundle: Promise<string> | undefined;

/** `src/workflows` bundled once per benchmark run, so that the worker starts as `npm start` does. */
function productionBundlePath(): Promise<string> {
  productionBundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  }).then(({ code }) => writeWorkflowBundle(code));
  return productionBundle;
}

/** A worker process on `taskQueue`; `budget` in real-time terms (see `startWorkerProcess`). */
export async function startBenchWorker(
  env: TestWorkflowEnvironment,
  emulator: Emulator,
  taskQueue: string,
  budget: AccountBudget,
): Promise<BenchWorkerProcess> {
  const worker = await startWorkerProcess(env, emulator, taskQueue, budget, await productionBundlePath());
  return { ...worker, usage: () => usageOf(worker.pid) };
}
