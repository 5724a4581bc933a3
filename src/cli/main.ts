/**
 * `await-export <exportId...>`: starts or attaches to one durable wait per export and follows it
 * to the end. `--help` documents flags, configuration and exit codes.
 */
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { secretsOf } from '../config';
import { TicksupplyClient } from '../ticksupply';
import { installInteractiveRuntime, startEmbeddedTemporal } from './embedded';
import { ExitCode } from './exit-codes';
import { failureLine, successSummary } from './format';
import { runMain } from './interrupt';
import { BadInputError, parseCommandLine, type CliOptions } from './options';
import { createProgressView } from './progress-view';
import { connectClient, hasWorker, resolveTemporal, type TemporalTarget } from './temporal';
import { startWait, watchWait } from './watch';

/** The embedded server's own database: the demo's may be in use at the same time. */
const EMBEDDED_DB = path.resolve(__dirname, '..', '..', '.temporal', 'await-export.sqlite');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(signal: AbortSignal): Promise<number> {
  let options: CliOptions;
  let target: TemporalTarget;
  try {
    const parsed = parseCommandLine(process.argv.slice(2));
    if (typeof parsed === 'number') return parsed;
    options = parsed;
    target = await resolveTemporal(process.env);
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    log(`error: ${error.message}`);
    return ExitCode.BadInput;
  }

  if (target.kind !== 'embedded') {
    const client = await connectClient(target);
    try {
      if ((await hasWorker(client, options.taskQueue)) === false) {
        log(
          `warning: no worker polls task queue '${options.taskQueue}' at ${target.connectionOptions.address}; ` +
            'the waits start but move only once one does (npm start)',
        );
      }
      return await awaitExports(client, options, signal, undefined);
    } finally {
      await client.connection.close();
    }
  }

  const config = target.worker;
  installInteractiveRuntime(secretsOf(config));
  log(`No Temporal configured: starting a local dev server and worker (state kept in ${path.relative(process.cwd(), EMBEDDED_DB)})`);
  const embedded = await startEmbeddedTemporal({
    dbFilename: EMBEDDED_DB,
    taskQueue: options.taskQueue,
    ticksupply: new TicksupplyClient(config.ticksupply),
    signal,
  });
  try {
    log(`Temporal Web UI: ${embedded.devServer.uiUrl}`);
    const code = await embedded.withWorker(() =>
      awaitExports(embedded.client, options, signal, (workflowId) => embedded.devServer.workflowUrl(workflowId)),
    );
    if (!options.wait) log('The embedded worker stops with this command: run await-export again with these ids to go on waiting.');
    return code;
  } finally {
    await embedded.close();
  }
}

async function awaitExports(
  client: Client,
  options: CliOptions,
  signal: AbortSignal,
  workflowUrl: ((workflowId: string) => string) | undefined,
): Promise<number> {
  signal.throwIfAborted();
  const waits = await Promise.all(
    options.exportIds.map(async (exportId) => ({
      exportId,
      handle: await startWait(client, options.taskQueue, exportId, options.waitOptions),
    })),
  );
  if (!options.wait) {
    const started = waits.map(({ exportId, handle }) => ({ exportId, workflowId: handle.workflowId, runId: handle.firstExecutionRunId }));
    process.stdout.write(options.json ? `${JSON.stringify(started, null, 2)}\n` : started.map((s) => `${s.workflowId}\n`).join(''));
    return ExitCode.Succeeded;
  }
  if (workflowUrl !== undefined) {
    for (const { exportId, handle } of waits) log(`${exportId} in the Web UI: ${workflowUrl(handle.workflowId)}`);
  }

  const view = createProgressView(process.stderr, options.exportIds);
  let outcomes;
  try {
    outcomes = await Promise.all(waits.map(({ exportId, handle }) => watchWait(client, exportId, handle, view, signal)));
  } catch (error) {
    view.close();
    if (!signal.aborted) throw error;
    log('Interrupted: the waits are kept in Temporal; run the same command again to attach to them.');
    return ExitCode.Interrupted;
  }
  view.close();

  if (options.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
  for (const outcome of outcomes) {
    if (outcome.ok) {
      if (!options.json) process.stdout.write(`${successSummary(outcome)}\n`);
    } else {
      log(failureLine(outcome));
    }
  }
  const firstFailure = outcomes.find((outcome) => !outcome.ok);
  return firstFailure?.ok === false ? firstFailure.exitCode : ExitCode.Succeeded;
}

runMain(main);
