/**
 * Activities, built by the worker from its dependencies. `toActivityError` is the one place where
 * client errors become Temporal failures.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import { pollDelayMs, resolveCadence, type ResolvedCadence } from '../cadence';
import { FailureType } from '../shared';
import {
  InvalidExportIdError,
  TicksupplyAbortError,
  TicksupplyApiError,
  TicksupplyContractError,
  TicksupplyError,
  TicksupplyHttpError,
  type ExportJob,
  type ExportStatus,
  type TicksupplyClient,
} from '../ticksupply';

export interface GetExportJobInput {
  exportId: string;
  /**
   * While the job's status equals this (non-terminal) value, fail with a benign, retryable
   * `ExportNotReady` so that Temporal's timer-backed activity retries do the waiting without
   * adding workflow history; the delay comes from `cadence`. Absent: return whatever status the
   * job has.
   */
  whileStatus?: ExportStatus;
  /** Delays between not-ready polls. @default resolveCadence({}) */
  cadence?: ResolvedCadence;
}

export interface GetExportJobResult {
  job: ExportJob;
  /** API requests this activity execution made, this one included (the attempt number). */
  attempts: number;
  /** ISO 8601 time the answer arrived, by the worker's clock. */
  observedAt: string;
  requestId?: string;
}

/** Types of retryable failures; the permanent ones are in `FailureType`. */
export const RetryableFailureType = {
  /** 429: `nextRetryDelay` follows `Retry-After` or the rate-limit reset headers. */
  RateLimited: 'TicksupplyRateLimited',
  /** 408 or 5xx, from the API or a proxy in front of it. */
  Unavailable: 'TicksupplyUnavailable',
  Connection: 'TicksupplyConnectionError',
  Timeout: 'TicksupplyTimeoutError',
  /** A 2xx whose body is not JSON or is cut off. */
  Response: 'TicksupplyResponseError',
} as const;

/** Statuses an export still moves on from (API reference §3.6); the rest are terminal. */
const NON_TERMINAL_STATUSES: ReadonlySet<ExportStatus> = new Set(['queued', 'running']);

const DEFAULT_CADENCE = resolveCadence({});

/**
 * Maps what `TicksupplyClient.getExport` threw to what the activity throws. Messages are the
 * client's one-line messages (export id, HTTP status, request id, reason); details carry the same
 * facts for code, never the key. A caller abort is the activity's own cancellation: it becomes a
 * `CancelledFailure` (with the aborted request as cause) so the worker reports it as such.
 */
function toActivityError(error: unknown, cancellation: AbortSignal): unknown {
  if (!(error instanceof TicksupplyError)) return error;
  if (error instanceof TicksupplyAbortError) {
    const reason: unknown = cancellation.reason;
    return reason instanceof CancelledFailure ? new CancelledFailure(reason.message, reason.details, error) : error;
  }

  const code = error instanceof TicksupplyApiError ? error.code : undefined;
  const fail = (type: string, nonRetryable: boolean, nextRetryDelayMs?: number) =>
    ApplicationFailure.create({
      type,
      message: error.message,
      nonRetryable,
      cause: error,
      details: [{ exportId: error.exportId, status: error.status, code, requestId: error.requestId }],
      ...(nextRetryDelayMs === undefined ? {} : { nextRetryDelay: nextRetryDelayMs }),
    });

  if (error instanceof InvalidExportIdError) return fail(FailureType.InvalidExportId, true);
  if (error instanceof TicksupplyContractError) return fail(FailureType.ExportContractViolation, true);
  if (error instanceof TicksupplyHttpError) {
    // The status decides, whatever the body: a proxy's HTML 404 is as permanent as the API's own.
    const { status, retryAfterMs } = error;
    if (status >= 200 && status < 300) return fail(RetryableFailureType.Response, false, retryAfterMs);
    if (status === 401 || status === 403) return fail(FailureType.TicksupplyAuthError, true);
    if (status === 404) return fail(FailureType.ExportNotFound, true);
    if (status === 429) return fail(RetryableFailureType.RateLimited, false, retryAfterMs);
    if (status === 408 || status >= 500) return fail(RetryableFailureType.Unavailable, false, retryAfterMs);
    // Any other status (400, 402, 409, an unfollowed 3xx…) will not change on retry.
    return fail(code ?? `http_${status}`, true);
  }
  // Connection failures and our own timeout: transient by nature.
  return fail(error.name, false);
}

export function createActivities(deps: { client: TicksupplyClient }) {
  // A plain function, not a method: the worker and tests call it detached from any object.
  async function getExportJob(input: GetExportJobInput): Promise<GetExportJobResult> {
    const { exportId, whileStatus } = input;
    const { info, log, cancellationSignal } = Context.current();
    const response = await deps.client.getExport(exportId, { signal: cancellationSignal }).catch((error: unknown) => {
      throw toActivityError(error, cancellationSignal);
    });
    const observedAt = new Date().toISOString();
    const { job, status, requestId } = response;
    const logAttributes = { exportId, status: job.status, httpStatus: status, requestId, attempt: info.attempt };

    if (whileStatus !== undefined && job.status === whileStatus && NON_TERMINAL_STATUSES.has(job.status)) {
      log.debug('Export not ready', logAttributes);
      const where = requestId === undefined ? `HTTP ${status}` : `HTTP ${status}, request ${requestId}`;
      throw ApplicationFailure.create({
        type: FailureType.ExportNotReady,
        message: `export ${exportId} is still ${job.status} (${where})`,
        nonRetryable: false,
        nextRetryDelay: pollDelayMs(input.cadence ?? DEFAULT_CADENCE, info.attempt, Math.random()),
        category: ApplicationFailureCategory.BENIGN,
        details: [{ status: job.status, job }],
      });
    }
    log.info('Export polled', logAttributes);
    return { job, attempts: info.attempt, observedAt, ...(requestId === undefined ? {} : { requestId }) };
  }
  return { getExportJob };
}
