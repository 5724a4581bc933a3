/**
 * `npm run demo`: the whole thing on one machine in under a minute. A Temporal dev server, the
 * Ticksupply emulator with one export that takes about 12 s, and the worker in this process; the
 * wait's live progress, its typed result and its page in the Temporal Web UI.
 * `npm run demo -- --fail` shows an export that fails, and the one-line failure a caller gets.
 */
import { createInterface } from 'node:readline';
import { startEmulator, type Emulator } from './emulator';
import { DEFAULT_TASK_QUEUE, type AwaitExportInput } from './shared';
import { TicksupplyClient } from './ticksupply';
import { installInteractiveRuntime, startEmbeddedTemporal, type EmbeddedTemporal } from './cli/embedded';
import { ExitCode } from './cli/exit-codes';
import { failureLine, formatDuration } from './cli/format';
import { runMain } from './cli/interrupt';
import { createProgressView } from './cli/progress-view';
import type { WaitOutcome } from './cli/types';
import { startWait, watchWait } from './cli/watch';

/** Long enough to watch both non-terminal statuses go by, short enough for a first look. */
const RUNNING_AFTER_MS = 4_000;
const DONE_AFTER_MS = 12_000;
const FAILURE_REASON = 'datastream 42 has no data between 2024-01-01T00:00Z and 01:00Z (subscription paused)';
/** Polls every second or two, so the live line moves; production defaults are 5 s growing to 1 min. */
const DEMO_CADENCE: Omit<AwaitExportInput, 'exportId'> = { initialInterval: '1s', maximumInterval: '2s', timeout: '5m' };

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function main(signal: AbortSignal): Promise<number> {
  const fail = process.argv.includes('--fail');
  const emulator = await startEmulator();
  try {
    installInteractiveRuntime([emulator.apiKey]);
    say('Starting a Temporal dev server and the export worker...');
    const temporal = await startEmbeddedTemporal({
      taskQueue: DEFAULT_TASK_QUEUE,
      ticksupply: new TicksupplyClient({ apiKey: emulator.apiKey, baseUrl: emulator.url }),
      signal,
    });
    try {
      return await temporal.withWorker(() => demo(temporal, emulator, fail, signal));
    } finally {
      await temporal.close();
    }
  } finally {
    await emulator.close();
  }
}

async function demo(temporal: EmbeddedTemporal, emulator: Emulator, fail: boolean, signal: AbortSignal): Promise<number> {
  const { devServer, client } = temporal;
  const exportId = emulator.createExport({
    lifecycle: [
      { status: 'queued' },
      { status: 'running', afterMs: RUNNING_AFTER_MS },
      fail ? { status: 'failed', afterMs: DONE_AFTER_MS, reason: FAILURE_REASON } : { status: 'succeeded', afterMs: DONE_AFTER_MS },
    ],
  });
  say(`  Temporal dev server   ${devServer.address}   Web UI ${devServer.uiUrl}`);
  say(`  Ticksupply emulator   ${emulator.url}   (a local stand-in for api.ticksupply.com)`);
  say(
    `  Export ${exportId}: queued, running after ${formatDuration(RUNNING_AFTER_MS)}, ` +
      `${fail ? 'failed' : 'succeeded'} after ${formatDuration(DONE_AFTER_MS)}`,
  );
  say();

  const handle = await startWait(client, DEFAULT_TASK_QUEUE, exportId, DEMO_CADENCE);
  say(`Waiting for it durably: workflow ${handle.workflowId}`);
  const view = createProgressView(process.stdout, [exportId]);
  let outcome: WaitOutcome;
  try {
    outcome = await watchWait(client, exportId, handle, view, signal);
  } catch (error) {
    if (!signal.aborted) throw error;
    // The emulator and its export end with the demo: a wait left behind could never finish.
    await handle.terminate('demo interrupted');
    say('\nInterrupted: the wait is terminated; shutting down.');
    return ExitCode.Interrupted;
  } finally {
    view.close();
  }
  say();
  if (outcome.ok) {
    say('The typed result (AwaitExportResult):');
    say(JSON.stringify(outcome.result, null, 2));
  } else {
    process.stderr.write(`${failureLine(outcome)}\n`);
  }
  say();
  say(`The wait in the Temporal Web UI: ${devServer.workflowUrl(handle.workflowId)}`);
  await holdWebUi(signal);
  return outcome.ok ? ExitCode.Succeeded : outcome.exitCode;
}

/** On a terminal, keeps the server (and so the link) up until Enter or Ctrl-C; piped, ends at once. */
async function holdWebUi(signal: AbortSignal): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY || signal.aborted) return;
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  process.stdout.write('Press Enter to stop the Temporal server and end the demo. ');
  // In raw mode Ctrl-C reaches readline as input, not the process as SIGINT.
  await new Promise<void>((resolve) => {
    prompt.once('line', () => resolve());
    prompt.once('SIGINT', () => resolve());
    prompt.once('close', () => resolve());
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  prompt.close();
}

runMain(main);
