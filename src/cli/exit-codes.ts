/** Exit codes of `await-export`, one per outcome a script may want to branch on. */
import { FailureType } from '../shared';

export const ExitCode = {
  /** Every export succeeded (or, with `--no-wait`, every wait was started). */
  Succeeded: 0,
  /** Anything not listed below: Temporal unreachable, API key rejected, the wait terminated, … */
  Error: 1,
  /** Bad input, found before anything starts: an argument, a flag, the configuration. */
  BadInput: 2,
  /** The export ended `failed`. */
  ExportFailed: 3,
  /** The export ended `canceled`. */
  ExportCanceled: 4,
  /** The wait's deadline (`--timeout`) passed first. */
  TimedOut: 5,
  /** The API does not know the export (404). */
  NotFound: 6,
  /** Stopped by Ctrl-C or SIGTERM (128 + SIGINT). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const BY_FAILURE_TYPE: Readonly<Record<string, ExitCode>> = {
  [FailureType.ExportFailed]: ExitCode.ExportFailed,
  [FailureType.ExportCanceled]: ExitCode.ExportCanceled,
  [FailureType.ExportTimedOut]: ExitCode.TimedOut,
  [FailureType.ExportNotFound]: ExitCode.NotFound,
  [FailureType.InvalidExportId]: ExitCode.BadInput,
  [FailureType.InvalidWaitOptions]: ExitCode.BadInput,
};

export function exitCodeOf(failureType: string): ExitCode {
  return BY_FAILURE_TYPE[failureType] ?? ExitCode.Error;
}

/** The table `--help` prints. */
export const EXIT_CODES_HELP = `Exit codes:
  ${ExitCode.Succeeded}    every export succeeded (--no-wait: every wait was started)
  ${ExitCode.Error}    any other error (Temporal unreachable, API key rejected, ...)
  ${ExitCode.BadInput}    bad input (export id, flag, configuration); nothing started
  ${ExitCode.ExportFailed}    the export failed
  ${ExitCode.ExportCanceled}    the export was canceled
  ${ExitCode.TimedOut}    the wait timed out (--timeout)
  ${ExitCode.NotFound}    the export does not exist (or belongs to another account)
  ${ExitCode.Interrupted}  interrupted (Ctrl-C); the waits go on, run again to attach
  With several ids: the code of the first id (in argument order) that failed.`;
