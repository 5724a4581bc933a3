/**
 * Names and types shared by workers, clients, parent workflows and `awaitExport` itself.
 * No side effects and no zod here: this module is part of the workflow bundle.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey, type Duration } from '@temporalio/common';
import type { ExportJob, ExportStatus } from './ticksupply/schema';

export type { ExportJob, ExportStatus };

/** Task queue the worker listens on unless `TICKSUPPLY_TASK_QUEUE` says otherwise. */
export const DEFAULT_TASK_QUEUE = 'ticksupply-exports';

/**
 * Workflow ID of the wait for one export. Deriving it from the export id lets several pipelines
 * awaiting the same export share one wait (start with `WorkflowIdConflictPolicy.USE_EXISTING`).
 */
export function awaitExportWorkflowId(exportId: string): string {
  return `await-export-${exportId}`;
}

/**
 * Search attributes a wait keeps up to date when {@link AwaitExportInput.searchAttributes} is on.
 * Both are Keyword attributes that must be registered in the namespace first.
 */
export const ExportSearchAttribute = {
  /** The export id, set from the start. */
  ExportId: defineSearchAttributeKey('TicksupplyExportId', SearchAttributeType.KEYWORD),
  /** The export's last seen status (`queued`, `running`, …); unset until the first poll answers. */
  ExportStatus: defineSearchAttributeKey('TicksupplyExportStatus', SearchAttributeType.KEYWORD),
} as const;

/** @see AwaitExportInput.timeout */
export const DEFAULT_WAIT_TIMEOUT = '7d';

/** `ApplicationFailure` types a caller can branch on. Plain strings survive bundling. */
export const FailureType = {
  /**
   * The export ended `failed`; details hold `{ exportId, reason, job, requestId }`, `requestId`
   * being the X-Request-Id of the answer that said so (`null` without one).
   */
  ExportFailed: 'ExportFailed',
  /** The export ended `canceled`; details hold `{ exportId, reason, job, requestId }`. */
  ExportCanceled: 'ExportCanceled',
  /** The wait's deadline passed first; details hold `{ exportId, lastStatus, deadline }`. */
  ExportTimedOut: 'ExportTimedOut',
  /** The id is not `exp_` + 32 lowercase hex; no request was sent. */
  InvalidExportId: 'InvalidExportId',
  /** 404: the export does not exist or belongs to another account. */
  ExportNotFound: 'ExportNotFound',
  /** 401 / 403: the worker's API key is missing, invalid or not allowed. */
  TicksupplyAuthError: 'TicksupplyAuthError',
  /** The API answered JSON that does not match the documented export job. */
  ExportContractViolation: 'ExportContractViolation',
  /** Benign, retryable: the export is still in the status the caller already knows. */
  ExportNotReady: 'ExportNotReady',
  /** A cadence or timeout option of the wait is malformed or out of range; nothing was polled. */
  InvalidWaitOptions: 'InvalidWaitOptions',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Failure types after which polling again cannot help; `awaitExport` fails with them at once. */
export const PERMANENT_FAILURE_TYPES: readonly string[] = [
  FailureType.InvalidExportId,
  FailureType.ExportNotFound,
  FailureType.TicksupplyAuthError,
  FailureType.ExportContractViolation,
];

/** How often a wait polls: the first poll is immediate, then intervals grow to a ceiling. */
export interface PollCadence {
  /**
   * Delay before the second poll, in ms or a duration string.
   * @default '5s' — most exports take seconds to minutes; 5 s notices a short one promptly.
   */
  initialInterval?: Duration;
  /**
   * Factor by which each next interval grows.
   * @default 1.5 — reaches the ceiling after about 8 polls (~2.5 min) at the other defaults.
   */
  backoffCoefficient?: number;
  /**
   * Ceiling for the interval between polls.
   * @default '1m' — a finished export is noticed within a minute; 1 request a minute per wait.
   */
  maximumInterval?: Duration;
  /**
   * Random spread applied to every interval, as a fraction (0.1 = ±10 %), so that waits started
   * together do not poll in lockstep. Drawn inside the activity, never in workflow code.
   * @default 0.1
   */
  jitter?: number;
}

export interface AwaitExportInput extends PollCadence {
  exportId: string;
  /**
   * Wall-clock deadline for the whole wait, counted from the first start (it survives
   * continue-as-new). On expiry the wait fails with `ExportTimedOut`.
   * @default '7d' — exports run seconds to hours; a week means something is stuck.
   */
  timeout?: Duration;
  /**
   * Keep the search attributes {@link ExportSearchAttribute} (`TicksupplyExportId`,
   * `TicksupplyExportStatus`) up to date, upserting them whenever the status changes, so that
   * operators can list waits by status: `TicksupplyExportStatus = 'queued' AND StartTime < '…'`
   * finds the exports queued since before a given time.
   *
   * Off by default because both must first be registered as Keyword attributes in the namespace
   * (`temporal operator search-attribute create --name TicksupplyExportId --type Keyword`, and the
   * same for `TicksupplyExportStatus`; the embedded dev server registers them). Where they are not,
   * a start through `startAwaitExport` (src/client.ts) is refused at once, and a wait started
   * otherwise stalls, its workflow task failing with `BadSearchAttributes` until it is terminated.
   * @default false
   */
  searchAttributes?: boolean;
  /**
   * Internal: what a run hands the next one on continue-as-new. Callers never set it; a first
   * start without it begins a fresh wait.
   */
  carried?: AwaitExportCarried;
}

/** The progress of a wait that survives continue-as-new. */
export interface AwaitExportCarried {
  /** ISO 8601 start of the wait's first run. */
  firstStartedAt: string;
  /** ISO 8601 deadline, fixed at the first start. */
  deadline: string;
  polls: number;
  job?: ExportJob;
  statusSince?: string;
  statusHistory: StatusObservation[];
}

/** One status the wait observed, and when (ISO 8601, as recorded by the polling activity). */
export interface StatusObservation {
  status: ExportStatus;
  at: string;
}

export interface AwaitExportResult {
  /** The final job, fields as the API names them, int64 values as decimal strings. */
  job: ExportJob;
  /**
   * API requests made by the wait across all its runs, failed ones included. Requests of a poll
   * cut short (by a poll-now or the deadline) are not reported back to the workflow and not counted.
   */
  polls: number;
  /** From the first start of the wait to the `succeeded` observation, in ms. */
  elapsedMs: number;
  /** Every status change the wait saw, oldest first. */
  statusHistory: StatusObservation[];
}

/** What the `exportStatus` query answers, for operators and the CLI's live view. */
export interface AwaitExportState {
  exportId: string;
  /** Last status seen; `undefined` before the first poll has answered. */
  status: ExportStatus | undefined;
  /** ISO 8601 time the last status was first seen. */
  statusSince: string | undefined;
  /** Polls whose outcome the workflow has recorded so far (retries in flight come on top). */
  polls: number;
  /** ISO 8601 deadline of the wait. */
  deadline: string;
  /** The job as last seen. */
  job: ExportJob | undefined;
}

/**
 * The state as the workflow knows it. The next poll is not in it: polls of an unchanged export are
 * server-side retries of one pending activity, invisible to workflow code;
 * `WorkflowHandle.describe()` lists that time as `pendingActivities[0].nextAttemptScheduleTime`.
 */
export const exportStatusQuery = defineQuery<AwaitExportState>('exportStatus');
/** Poll at once instead of waiting for the next interval (for instance after an operator nudge). */
export const pollNowSignal = defineSignal('pollNow');
/**
 * Like {@link pollNowSignal}, and answers the state once that poll's answer is recorded (or the
 * wait has ended), so the caller sees what the API says now.
 */
export const refreshStatusUpdate = defineUpdate<AwaitExportState>('refreshStatus');
