/**
 * The export worker: `createExportWorker` for anything that runs one in-process (the CLI's
 * embedded mode, the demo), and the worker process itself (`npm start`, or
 * `node --import tsx src/worker.ts` from source), configured by the variables in `config.ts`.
 *
 * Exit codes: 0 after a clean shutdown (SIGINT or SIGTERM drain in-flight tasks first),
 * 2 for missing or malformed configuration (`CONFIG_ERROR_EXIT_CODE`), 1 for any other failure.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogEntry,
  type LogLevel,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createActivities } from './activities';
import {
  CONFIG_ERROR_EXIT_CODE,
  ConfigError,
  DEFAULT_BUDGET,
  loadConfig,
  secretsOf,
  taskQueueActivitiesPerSecond,
  workerTuning,
  type AccountBudget,
  type WorkerConfig,
} from './config';
import { TicksupplyClient } from './ticksupply';

/** Entry of the workflow code: `src/workflows/index.ts` from source, `workflows/index.js` once compiled. */
export const WORKFLOWS_PATH = require.resolve('./workflows');

/** Where `npm run build` puts the bundle: beside the compiled worker. */
const PREBUILT_WORKFLOW_BUNDLE = path.join(__dirname, 'workflow-bundle.js');

export interface ExportWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The Ticksupply client the activities use; it holds the API key, which stays in this process. */
  client: TicksupplyClient;
  /**
   * Prebuilt workflow code (`{ codePath }` of a file `npm run build` wrote, or `bundleWorkflowCode`'s
   * result). Default: `workflow-bundle.js` beside this module if there is one, else the workflow
   * code is bundled from source at startup, which takes seconds and is meant for development.
   */
  workflowBundle?: WorkflowBundleOption;
  /**
   * The account's limits as the task queue must keep them, in real time; sets the task queue's
   * activity rate (`taskQueueActivitiesPerSecond`). Every worker of the task queue must pass the same.
   * @default DEFAULT_BUDGET
   */
  budget?: AccountBudget;
}

/**
 * A worker for `awaitExport` and its activities, tuned by `workerTuning` and paced by the budget;
 * call `run()` on it.
 */
export async function createExportWorker(options: ExportWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, client, budget = DEFAULT_BUDGET } = options;
  const { logger } = Runtime.instance();
  const workflowBundle =
    options.workflowBundle ?? (existsSync(PREBUILT_WORKFLOW_BUNDLE) ? { codePath: PREBUILT_WORKFLOW_BUNDLE } : undefined);
  if (workflowBundle === undefined) {
    logger.info('No prebuilt workflow bundle: bundling the workflow code at startup (development mode; `npm run build` prebuilds it)', {
      workflowsPath: WORKFLOWS_PATH,
    });
  } else if ('codePath' in workflowBundle) {
    logger.info('Using the prebuilt workflow bundle', { codePath: workflowBundle.codePath });
  }
  return Worker.create({
    ...workerTuning,
    // Also turns off eager activity dispatch, which would hand out first attempts past the limit.
    maxTaskQueueActivitiesPerSecond: taskQueueActivitiesPerSecond(budget),
    connection,
    namespace,
    taskQueue,
    activities: createActivities({ client }),
    ...(workflowBundle === undefined ? { workflowsPath: WORKFLOWS_PATH } : { workflowBundle }),
  });
}

const REDACTED = '[REDACTED]';

/** JSON for any log metadata: errors keep name, message and stack; bigints become decimal strings. */
function toJsonValue(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
  return value;
}

/**
 * Temporal's `DefaultLogger` writing one JSON object per line to stderr:
 * `{"time":"…","level":"INFO","message":"…",…metadata}`. Every occurrence of a secret is replaced,
 * whoever logged it (the SDK, Core, an activity).
 */
export function createJsonLogger(level: LogLevel, secrets: readonly string[]): DefaultLogger {
  const nonEmpty = secrets.filter((secret) => secret !== '');
  const redact = (text: string): string => nonEmpty.reduce((redacted, secret) => redacted.replaceAll(secret, REDACTED), text);
  const replacer = (_key: string, value: unknown): unknown => toJsonValue(value, redact);
  return new DefaultLogger(level, ({ level, timestampNanos, message, meta }: LogEntry) => {
    const head = { time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level, message };
    let line: string;
    try {
      line = JSON.stringify({ ...head, ...meta }, replacer);
    } catch (error) {
      // A circular structure in the metadata must not cost the log line itself.
      line = JSON.stringify({ ...head, metaError: String(error) }, replacer);
    }
    process.stderr.write(`${line}\n`);
  });
}

async function run(config: WorkerConfig, logger: DefaultLogger): Promise<void> {
  Runtime.install({
    logger,
    telemetryOptions: {
      // Core's own log lines go through the same JSON logger instead of straight to the console.
      logging: { filter: { core: config.logLevel }, forward: {} },
      ...(config.metricsBindAddress === undefined ? {} : { metrics: { prometheus: { bindAddress: config.metricsBindAddress } } }),
    },
  });
  const { connectionOptions, namespace } = config.temporal;
  logger.info('Starting the export worker', {
    temporalAddress: connectionOptions.address,
    namespace,
    taskQueue: config.taskQueue,
    ticksupplyBaseUrl: config.ticksupply.baseUrl,
    budget: config.budget,
    taskQueueActivitiesPerSecond: taskQueueActivitiesPerSecond(config.budget),
    metricsEndpoint: config.metricsBindAddress === undefined ? undefined : `http://${config.metricsBindAddress}/metrics`,
  });
  const connection = await NativeConnection.connect(connectionOptions).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot connect to Temporal at ${connectionOptions.address}: ${reason}`, { cause: error });
  });
  try {
    const worker = await createExportWorker({
      connection,
      namespace,
      taskQueue: config.taskQueue,
      client: new TicksupplyClient(config.ticksupply),
      budget: config.budget,
      ...(config.workflowBundlePath === undefined ? {} : { workflowBundle: { codePath: config.workflowBundlePath } }),
    });
    // Resolves once a shutdown signal (SIGINT, SIGTERM, SIGQUIT, SIGUSR2: the Runtime's default
    // `shutdownSignals`) has stopped polling and in-flight tasks have drained.
    await worker.run();
  } finally {
    await connection.close();
  }
  logger.info('Export worker stopped');
}

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = CONFIG_ERROR_EXIT_CODE;
    return;
  }
  const logger = createJsonLogger(config.logLevel, secretsOf(config));
  try {
    await run(config, logger);
  } catch (error) {
    logger.error(`Export worker failed: ${error instanceof Error ? error.message : String(error)}`, { error });
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main();
}
