/**
 * Temporal in a box, for the demo and the CLI's embedded mode: the dev server as a child process,
 * the export worker in this process, and a client, started together and stopped in order.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, bundleWorkflowCode, type Logger, type WorkflowBundleOption } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../dev-server';
import type { TicksupplyClient } from '../ticksupply';
import { WORKFLOWS_PATH, createExportWorker, createJsonLogger } from '../worker';

/** The bundler reports every module at INFO; a failure still throws. */
const SILENT: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export interface EmbeddedTemporal {
  readonly devServer: DevServer;
  readonly client: Client;
  /** Runs `fn` while the worker polls; the worker drains and stops once `fn` settles (or fails itself). */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
  /** Closes the client and stops the dev server. */
  close(): Promise<void>;
}

export interface EmbeddedTemporalOptions {
  /** SQLite file of the dev server; see `startDevServer`. */
  dbFilename?: string;
  taskQueue: string;
  /** The activities' client; its API key stays in this process. */
  ticksupply: TicksupplyClient;
  workflowBundle?: WorkflowBundleOption;
  /** Aborting it during start-up stops what has started and rejects. */
  signal?: AbortSignal;
}

/**
 * Installs the Temporal runtime for an interactive process: errors only (a failed wait is an
 * outcome the caller shows, not a warning), secrets redacted, and no signal handlers of its own,
 * so that Ctrl-C stops the worker before the server. Call once, before `startEmbeddedTemporal`.
 */
export function installInteractiveRuntime(secrets: readonly string[]): void {
  Runtime.install({ logger: createJsonLogger('ERROR', secrets), shutdownSignals: [] });
}

export async function startEmbeddedTemporal(options: EmbeddedTemporalOptions): Promise<EmbeddedTemporal> {
  const { signal } = options;
  // Bundling the workflow code takes seconds: it runs while the server starts.
  const bundling: Promise<WorkflowBundleOption> =
    options.workflowBundle === undefined
      ? bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: SILENT })
      : Promise.resolve(options.workflowBundle);
  bundling.catch(() => undefined);
  const devServer = await startDevServer({
    ...(options.dbFilename === undefined ? {} : { dbFilename: options.dbFilename }),
    ...(signal === undefined ? {} : { signal }),
  });
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async (): Promise<void> => {
    for (const resource of opened.reverse()) await resource.close();
    await devServer.stop();
  };
  try {
    signal?.throwIfAborted();
    const connection = await Connection.connect({ address: devServer.address });
    opened.push(connection);
    const client = new Client({ connection, namespace: devServer.namespace });
    const nativeConnection = await NativeConnection.connect({ address: devServer.address });
    opened.push(nativeConnection);
    // Created last: a worker holds its connection open until it has run, so nothing may fail after it.
    const worker = await createExportWorker({
      connection: nativeConnection,
      namespace: devServer.namespace,
      taskQueue: options.taskQueue,
      client: options.ticksupply,
      workflowBundle: await bundling,
    });
    return {
      devServer,
      client,
      withWorker: (fn) => worker.runUntil(fn),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
