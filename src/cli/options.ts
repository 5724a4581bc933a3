/** The command line of `await-export`: flags, their checks, and the help a person reads. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { msToNumber, type StringValue } from '@temporalio/common';
import { DEFAULT_CADENCE, resolveCadence } from '../cadence';
import { DEFAULT_TASK_QUEUE, DEFAULT_WAIT_TIMEOUT, type AwaitExportInput } from '../shared';
import { EXPORT_ID_PATTERN } from '../ticksupply/schema';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes';

export interface CliOptions {
  exportIds: string[];
  json: boolean;
  wait: boolean;
  taskQueue: string;
  /** Options of the waits this run starts; a wait already running keeps its own. */
  waitOptions: Omit<AwaitExportInput, 'exportId'>;
}

/** Input that is wrong before anything has started; the message is one line. */
export class BadInputError extends Error {
  override readonly name = 'BadInputError';
}

/** `30s`, `5m`, `1.5h`, `7d`: a positive duration with a unit (a bare number would silently mean ms). */
function duration(value: string): StringValue {
  let ms: number;
  try {
    ms = /[a-z]$/i.test(value) ? msToNumber(value as StringValue) : NaN;
  } catch {
    ms = NaN;
  }
  if (!(ms > 0)) throw new InvalidArgumentError('expected a positive duration with a unit, such as 500ms, 30s, 5m, 2h or 7d.');
  return value as StringValue;
}

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

const HELP_AFTER = `
Each export gets one awaitExport workflow, with the id await-export-<exportId>.
If one is already running for an export, await-export attaches to it (and its
own timeout and cadence stay) instead of starting a second. Progress goes to
stderr: a live line per export on a terminal, a line per change otherwise.
Results go to stdout. Ctrl-C stops watching; the waits go on.

Temporal:
  The standard TEMPORAL_* variables or profile (TEMPORAL_ADDRESS,
  TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE,
  TEMPORAL_CONFIG_FILE) choose the server, where a worker (npm start) must
  poll the task queue. With none configured, a server on localhost:7233 is
  used if there is one; otherwise await-export starts an embedded dev server
  and worker itself, which need TICKSUPPLY_API_KEY (and TICKSUPPLY_BASE_URL
  for anything but the real API). The embedded server keeps its state in
  .temporal/await-export.sqlite: an interrupted wait resumes on the next run.

Examples:
  $ TICKSUPPLY_API_KEY=key_... await-export exp_0194c2a7e1b84f3a9d2e6b1c0a9f8e7d
  $ await-export --timeout 2h --poll-interval 10s exp_0194... exp_0195...
  $ await-export --json exp_0194... | jq '.[0].result.job'
  $ await-export --no-wait exp_0194...     # start, leave; run again to attach
  $ TEMPORAL_ADDRESS=temporal.internal:7233 await-export exp_0194...

${EXIT_CODES_HELP}
`;

function program(): Command {
  return new Command()
    .name('await-export')
    .description('Wait, durably on Temporal, until Ticksupply exports finish, and show their progress.')
    .argument('<exportId...>', 'export ids: exp_ followed by 32 lowercase hex characters')
    .option('--json', 'print one JSON document on stdout: an array with one entry per export')
    .option('--no-wait', 'start the waits, print their workflow ids and exit')
    .option('--timeout <duration>', `give up on an export after this long (default: ${DEFAULT_WAIT_TIMEOUT})`, duration)
    .option('--poll-interval <duration>', `delay before the second poll (default: ${DEFAULT_CADENCE.initialInterval})`, duration)
    .option('--max-poll-interval <duration>', `ceiling of the delay between polls (default: ${DEFAULT_CADENCE.maximumInterval})`, duration)
    .option('--backoff <factor>', `factor by which each delay grows, at least 1 (default: ${DEFAULT_CADENCE.backoffCoefficient})`, number)
    .option('--jitter <fraction>', `random spread of each delay, 0 to below 1 (default: ${DEFAULT_CADENCE.jitter})`, number)
    .addOption(
      new Option('--task-queue <name>', 'task queue the export worker polls').env('TICKSUPPLY_TASK_QUEUE').default(DEFAULT_TASK_QUEUE),
    )
    .addHelpText('after', HELP_AFTER)
    .showSuggestionAfterError()
    .exitOverride();
}

/** `resolveCadence` names the workflow's options; a person typed these flags. */
const FLAG_OF = {
  initialInterval: '--poll-interval',
  maximumInterval: '--max-poll-interval',
  backoffCoefficient: '--backoff',
  jitter: '--jitter',
} as const;

interface RawOptions {
  json?: boolean;
  wait: boolean;
  timeout?: StringValue;
  pollInterval?: StringValue;
  maxPollInterval?: StringValue;
  backoff?: number;
  jitter?: number;
  taskQueue: string;
}

/**
 * Parses `argv` (without node and script). Returns the options, or the exit code when commander
 * has already answered (help: 0; a usage error it printed: BadInput).
 * @throws BadInputError for a malformed id or an impossible cadence
 */
export function parseCommandLine(argv: readonly string[]): CliOptions | ExitCode {
  const command = program();
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0 ? ExitCode.Succeeded : ExitCode.BadInput;
  }
  const raw = command.opts<RawOptions>();
  const exportIds = [...new Set(command.args)];
  for (const id of exportIds) {
    if (!EXPORT_ID_PATTERN.test(id)) {
      throw new BadInputError(`'${id}' is not an export id: expected exp_ followed by 32 lowercase hex characters`);
    }
  }
  const waitOptions: CliOptions['waitOptions'] = {
    ...(raw.timeout === undefined ? {} : { timeout: raw.timeout }),
    ...(raw.pollInterval === undefined ? {} : { initialInterval: raw.pollInterval }),
    ...(raw.maxPollInterval === undefined ? {} : { maximumInterval: raw.maxPollInterval }),
    ...(raw.backoff === undefined ? {} : { backoffCoefficient: raw.backoff }),
    ...(raw.jitter === undefined ? {} : { jitter: raw.jitter }),
  };
  try {
    resolveCadence(waitOptions);
  } catch (error) {
    const message = Object.entries(FLAG_OF).reduce((text, [name, flag]) => text.replaceAll(name, flag), (error as Error).message);
    throw new BadInputError(`invalid polling options: ${message}`);
  }
  return { exportIds, json: raw.json === true, wait: raw.wait, taskQueue: raw.taskQueue, waitOptions };
}
