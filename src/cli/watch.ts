/**
 * Starting (or attaching to) waits and following them to their outcome: the workflow's query for
 * what it knows, `describe()` for the polling activity's retries, which are the live truth between
 * status changes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time';
import { hasExportSearchAttributes, startAwaitExport } from '../client';
import { FailureType, exportStatusQuery, type AwaitExportInput, type AwaitExportState } from '../shared';
import type { awaitExport } from '../workflows';
import { exitCodeOf } from './exit-codes';
import { finalLine, progressKey, progressLine } from './format';
import type { ProgressView } from './progress-view';
import type { WaitFailure, WaitOutcome, WaitProgress } from './types';

export type AwaitExportHandle = WorkflowHandle<typeof awaitExport>;

/** How often a running wait's progress is read, in ms: often enough for a ticking live line. */
const REFRESH_MS = 1_000;
/** A query needs a worker; without one it would hang until the RPC deadline. */
const QUERY_DEADLINE_MS = 2_000;
/** `PENDING_ACTIVITY_STATE_STARTED` of `temporal.api.enums.v1.PendingActivityState`: an attempt is in flight. */
const PENDING_ACTIVITY_STATE_STARTED = 2;

/**
 * Starts the `awaitExport` of one export, or attaches to the one already running for it. The wait
 * keeps its search attributes up to date where the namespace has them registered (the embedded
 * dev server does), unless `options.searchAttributes` says otherwise.
 */
export async function startWait(
  client: Client,
  taskQueue: string,
  exportId: string,
  options: Omit<AwaitExportInput, 'exportId'>,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof awaitExport>> {
  const searchAttributes = options.searchAttributes ?? (await hasExportSearchAttributes(client));
  return startAwaitExport(client, { ...options, exportId, searchAttributes }, { taskQueue });
}

/**
 * Follows one wait to its end, showing progress on `view`. An abort of `signal` stops following
 * (the wait itself goes on) and rejects.
 */
export async function watchWait(
  client: Client,
  exportId: string,
  handle: AwaitExportHandle,
  view: ProgressView,
  signal: AbortSignal,
): Promise<WaitOutcome> {
  let settled = false;
  const outcome = client.connection.withAbortSignal(signal, () => handle.result()).then(
    (result): WaitOutcome => ({ exportId, workflowId: handle.workflowId, ok: true, result }),
    (error: unknown): WaitOutcome => {
      if (signal.aborted) throw error;
      const failure = failureOf(handle.workflowId, error);
      return { exportId, workflowId: handle.workflowId, ok: false, exitCode: exitCodeOf(failure.type), failure };
    },
  );
  void outcome.finally(() => (settled = true)).catch(() => undefined);

  while (!settled && !signal.aborted) {
    try {
      const progress = await readProgress(client, exportId, handle);
      if (!settled) view.update(exportId, progressLine(progress, Date.now()), progressKey(progress));
    } catch {
      // The wait just ended, or Temporal is briefly unreachable: the result says which.
    }
    await Promise.race([outcome.catch(() => undefined), sleep(REFRESH_MS, undefined, { signal }).catch(() => undefined)]);
  }
  const final = await outcome;
  view.update(exportId, finalLine(final), 'final');
  return final;
}

async function readProgress(client: Client, exportId: string, handle: AwaitExportHandle): Promise<WaitProgress> {
  const [state, description] = await Promise.all([
    client.connection
      .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(exportStatusQuery))
      .catch((): AwaitExportState | undefined => undefined),
    handle.describe(),
  ]);
  // The wait runs one activity at a time: the poll whose retries go on while the status stays put.
  const poll = description.raw.pendingActivities?.[0];
  const attempt = poll?.attempt ?? 0;
  const inFlight = Number(poll?.state) === PENDING_ACTIVITY_STATE_STARTED;
  const failure = poll?.lastFailure;
  const notReady = failure?.applicationFailureInfo?.type === FailureType.ExportNotReady;
  return {
    exportId,
    state,
    // Attempts before the current one have answered; the workflow counts them only once the poll ends.
    polls: (state?.polls ?? 0) + Math.max(0, attempt - 1),
    nextPollAt: inFlight ? undefined : optionalTsToDate(poll?.nextAttemptScheduleTime)?.getTime(),
    pollingNow: inFlight,
    lastError: failure?.message && !notReady ? failure.message : undefined,
  };
}

/** The one-line failure a caller reads: the workflow's own `ApplicationFailure`, or how the wait ended. */
export function failureOf(workflowId: string, error: unknown): WaitFailure {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) {
      return {
        type: cause.type ?? 'ApplicationFailure',
        message: cause.message,
        ...(cause.details?.[0] === undefined ? {} : { details: cause.details[0] }),
      };
    }
    const reason = cause?.message ? `: ${cause.message}` : '';
    if (cause instanceof TerminatedFailure) return { type: 'WorkflowTerminated', message: `the wait ${workflowId} was terminated${reason}` };
    if (cause instanceof CancelledFailure) return { type: 'WorkflowCanceled', message: `the wait ${workflowId} was canceled${reason}` };
    if (cause instanceof TimeoutFailure) return { type: 'WorkflowTimedOut', message: `the wait ${workflowId} timed out${reason}` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { type: error instanceof Error ? error.name : 'Error', message: message.split('\n', 1)[0] ?? '' };
}

