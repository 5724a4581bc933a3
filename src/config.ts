/**
 * The worker's configuration, read from the environment once at startup and validated, and the
 * tuning profile every export worker runs with.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `TICKSUPPLY_API_KEY` | (required) | sent as `X-Api-Key`; never printed |
 * | `TICKSUPPLY_BASE_URL` | `https://api.ticksupply.com` | API origin, without `/v1` |
 * | `TICKSUPPLY_TASK_QUEUE` | `ticksupply-exports` | task queue to poll |
 * | `TICKSUPPLY_LOG_LEVEL` | `INFO` | `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR` |
 * | `TICKSUPPLY_METRICS_PORT` | (off) | serve Prometheus metrics at `http://<host>:<port>/metrics` |
 * | `TICKSUPPLY_METRICS_HOST` | `127.0.0.1` | IP address the metrics endpoint binds |
 * | `TICKSUPPLY_WORKFLOW_BUNDLE` | `workflow-bundle.js` beside the compiled worker, if present | prebuilt workflow code |
 * | `TICKSUPPLY_RATE_LIMIT_PER_MINUTE` | `200` | the account's requests a minute, all keys together |
 * | `TICKSUPPLY_RATE_LIMIT_PER_HOUR` | `10000` | the account's requests an hour, all keys together |
 * | `TICKSUPPLY_BUDGET_SHARE` | `0.8` | fraction of the account's limits the waits may use, in (0, 1] |
 * | `TEMPORAL_*` | `localhost:7233`, namespace `default` | Temporal's standard client configuration |
 *
 * An empty variable counts as unset. Every worker of a task queue must run with the same three
 * budget variables: see `taskQueueActivitiesPerSecond`.
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { LogLevel, NativeConnectionOptions, WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './shared';

/** Exit code of the worker when its configuration is missing or malformed (1 is for failures at run time). */
export const CONFIG_ERROR_EXIT_CODE = 2;

/** Raised by `loadConfig`; the message is one line naming the variable, never its value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface WorkerConfig {
  ticksupply: { apiKey: string; baseUrl: string };
  temporal: {
    connectionOptions: NativeConnectionOptions & { address: string };
    namespace: string;
  };
  taskQueue: string;
  logLevel: LogLevel;
  /** `ip:port` of the Prometheus endpoint; `undefined` when `TICKSUPPLY_METRICS_PORT` is unset. */
  metricsBindAddress: string | undefined;
  /** Absolute path of a prebuilt workflow bundle named by `TICKSUPPLY_WORKFLOW_BUNDLE`. */
  workflowBundlePath: string | undefined;
  budget: AccountBudget;
}

/** The Ticksupply account's request limits (API reference §5) and the part of them waits may spend. */
export interface AccountBudget {
  /** Requests a minute the account allows, shared by all its keys. */
  perMinute: number;
  /** Requests an hour the account allows, shared by all its keys. */
  perHour: number;
  /** Fraction of the limits the waits may use; the rest is left to the account's other API use. */
  share: number;
}

/**
 * The documented limits, 200 a minute and 10,000 an hour, of which the waits take 80 %: creating,
 * downloading and cancelling exports, from any key of the account, keep a fifth.
 */
export const DEFAULT_BUDGET: Readonly<AccountBudget> = { perMinute: 200, perHour: 10_000, share: 0.8 };

/**
 * API requests per second the waits may make together: the budget's share of the slower of the two
 * sustained rates (with the defaults 0.8 × 10,000 / 3,600 s ≈ 2.22/s, 8,000 an hour).
 *
 * A wait polls by retrying one activity, and each attempt is an activity task of the task queue,
 * so the worker sets this as `maxTaskQueueActivitiesPerSecond`: the Temporal server then paces
 * every attempt of every wait, for all workers of the task queue together. A backlog is served in
 * order and a wait has at most one task in it, so under a tight budget every wait is polled about
 * once per (pending waits / rate) seconds: polls slow down evenly and none starves.
 *
 * The server keeps the value sent by the latest activity poll: workers with different budgets on
 * one task queue overrule each other, and a worker that sends none lifts the limit. Give every
 * worker the same variables, or pin the rate on the server, which then overrides the workers':
 * `temporal task-queue config set --task-queue-type activity --queue-rps-limit <rate>`. The rate
 * holds per task queue: waits of one account on several task queues must split the share (0.4
 * each for two). Dispatch can run ahead in a short burst (a few tasks, and about 20 on a task queue
 * whose pollers have not brought the rate yet), which the account's minute bucket of 200 absorbs;
 * should a 429 come anyway, the poll is retried after its `Retry-After` and the wait goes on.
 */
export function taskQueueActivitiesPerSecond(budget: AccountBudget): number {
  return budget.share * Math.min(budget.perMinute / 60, budget.perHour / 3_600);
}

/**
 * How an export worker spends its slots and how it stops. A wait costs the worker almost nothing
 * (it sleeps on server timers), so these limits protect the Ticksupply account, not the host.
 */
export const workerTuning = {
  /**
   * An attempt holds a slot for at most the client's 10 s request timeout; at the default budget's
   * 2.2 attempts a second, 20 slots are rarely all busy, while a stalled API cannot tie up
   * more than 20 sockets. (The task queue's rate comes from the budget: `createExportWorker`.)
   */
  maxConcurrentActivityTaskExecutions: 20,
  /** Lets a request in flight at shutdown finish (or hit its own 10 s timeout) instead of being cancelled. */
  shutdownGraceTime: '10s',
  /**
   * Gives up on a stuck shutdown, with an error and exit code 1, before Kubernetes' default 30 s
   * termination grace period ends in SIGKILL. (`docker stop` waits only 10 s: pass `-t 30`.)
   */
  shutdownForceTime: '25s',
} as const satisfies Partial<WorkerOptions>;

const DEFAULT_BASE_URL = 'https://api.ticksupply.com';
const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
const DEFAULT_METRICS_HOST = '127.0.0.1';
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const satisfies readonly LogLevel[];

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

const positiveInteger = z
  .string()
  .regex(/^\d{1,9}$/, 'must be a positive whole number of requests')
  .transform(Number)
  .pipe(z.number().min(1, 'must be a positive whole number of requests'));

// Messages never quote the input: the API key must not appear even when it is set by mistake in
// another variable.
const envSchema = z.object({
  TICKSUPPLY_API_KEY: z
    .string({ error: 'is required (the Ticksupply API key)' })
    .regex(/^\S+$/, 'must not contain whitespace'),
  TICKSUPPLY_BASE_URL: z
    .string()
    .refine(isHttpUrl, { message: 'must be an http(s) URL without query or fragment, such as https://api.ticksupply.com', abort: true })
    .refine((url) => !/\/v\d+\/*$/.test(url), 'must not end in a version segment such as /v1: the client adds it')
    .default(DEFAULT_BASE_URL),
  TICKSUPPLY_TASK_QUEUE: z.string().regex(/^\S+$/, 'must not contain whitespace').default(DEFAULT_TASK_QUEUE),
  TICKSUPPLY_LOG_LEVEL: z
    .string()
    .transform((level) => level.toUpperCase())
    .pipe(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('INFO'),
  TICKSUPPLY_METRICS_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number, 1-65535')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a port number, 1-65535').max(65_535, 'must be a port number, 1-65535'))
    .optional(),
  // An IP literal: the Prometheus exporter binds a socket address and resolves no host names.
  TICKSUPPLY_METRICS_HOST: z
    .union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address, such as 127.0.0.1 or 0.0.0.0' })
    .default(DEFAULT_METRICS_HOST),
  TICKSUPPLY_WORKFLOW_BUNDLE: z
    .string()
    .transform((file) => path.resolve(file))
    .refine(isFile, 'names no file (build one with npm run build)')
    .optional(),
  TICKSUPPLY_RATE_LIMIT_PER_MINUTE: positiveInteger.default(DEFAULT_BUDGET.perMinute),
  TICKSUPPLY_RATE_LIMIT_PER_HOUR: positiveInteger.default(DEFAULT_BUDGET.perHour),
  TICKSUPPLY_BUDGET_SHARE: z
    .string()
    .regex(/^(0?\.\d+|1(\.0*)?)$/, 'must be a fraction in (0, 1], such as 0.8')
    .transform(Number)
    .pipe(z.number().gt(0, 'must be a fraction in (0, 1], such as 0.8'))
    .default(DEFAULT_BUDGET.share),
});

/** `host:port`, with the host a name, an IPv4 address or a bracketed IPv6 address. */
const TEMPORAL_ADDRESS_PATTERN = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function loadTemporalConfig(env: Record<string, string>): WorkerConfig['temporal'] {
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: env });
  } catch (error) {
    const reason = error instanceof Error ? firstLine(error.message) : String(error);
    throw new ConfigError(
      `invalid configuration: Temporal client configuration (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, TEMPORAL_TLS_*): ${reason}`,
    );
  }
  const address = loaded.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!TEMPORAL_ADDRESS_PATTERN.test(address)) {
    throw new ConfigError('invalid configuration: TEMPORAL_ADDRESS (or the profile\'s address) must be host:port, such as localhost:7233');
  }
  return { connectionOptions: { ...loaded.connectionOptions, address }, namespace: loaded.namespace ?? 'default' };
}

/**
 * Reads and validates the whole configuration from `env` (normally `process.env`).
 * @throws ConfigError naming every missing or malformed variable, on one line
 */
export function loadConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') set[name] = value;
  }
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`);
  const vars = parsed.data;
  const metricsHost = vars.TICKSUPPLY_METRICS_HOST.includes(':') ? `[${vars.TICKSUPPLY_METRICS_HOST}]` : vars.TICKSUPPLY_METRICS_HOST;
  return {
    ticksupply: { apiKey: vars.TICKSUPPLY_API_KEY, baseUrl: vars.TICKSUPPLY_BASE_URL },
    temporal: loadTemporalConfig(set),
    taskQueue: vars.TICKSUPPLY_TASK_QUEUE,
    logLevel: vars.TICKSUPPLY_LOG_LEVEL,
    metricsBindAddress: vars.TICKSUPPLY_METRICS_PORT === undefined ? undefined : `${metricsHost}:${vars.TICKSUPPLY_METRICS_PORT}`,
    workflowBundlePath: vars.TICKSUPPLY_WORKFLOW_BUNDLE,
    budget: {
      perMinute: vars.TICKSUPPLY_RATE_LIMIT_PER_MINUTE,
      perHour: vars.TICKSUPPLY_RATE_LIMIT_PER_HOUR,
      share: vars.TICKSUPPLY_BUDGET_SHARE,
    },
  };
}

/** Values no log line may contain. */
export function secretsOf(config: WorkerConfig): string[] {
  const temporalKey = config.temporal.connectionOptions.apiKey;
  return [config.ticksupply.apiKey, ...(typeof temporalKey === 'string' && temporalKey !== '' ? [temporalKey] : [])];
}
