import type { AwaitExportResult, AwaitExportState } from '../shared';
import type { ExitCode } from './exit-codes';

/** What the terminal shows of one running wait. */
export interface WaitProgress {
  exportId: string;
  /** The workflow's own view; `undefined` while no worker has answered the query yet. */
  state: AwaitExportState | undefined;
  /** API requests so far, the attempts of the poll in progress included. */
  polls: number;
  /** Epoch ms of the next poll while the server waits to retry the polling activity. */
  nextPollAt: number | undefined;
  /** A request is in flight. */
  pollingNow: boolean;
  /** Why the last attempt failed, unless it merely found the export unchanged. */
  lastError: string | undefined;
}

export interface WaitFailure {
  /** A `FailureType`, or `WorkflowTerminated` / `WorkflowCanceled` / `WorkflowTimedOut` / an error name. */
  type: string;
  /** One line. */
  message: string;
  /** The failure's details, e.g. `{ exportId, reason, job }` for `ExportFailed`. */
  details?: unknown;
}

/** How one wait ended; the element of `--json` output. */
export type WaitOutcome =
  | { exportId: string; workflowId: string; ok: true; result: AwaitExportResult }
  | { exportId: string; workflowId: string; ok: false; exitCode: ExitCode; failure: WaitFailure };
