/**
 * `awaitExport`: waits for one Ticksupply export to reach a terminal status, for as long as its
 * deadline allows, at almost no history cost.
 *
 * Polling is the retry loop of a single activity: `getExportJob` with `whileStatus` fails with a
 * benign, retryable `ExportNotReady` while the export keeps the status the workflow already knows,
 * and sets its own `nextRetryDelay` from the cadence. The server runs those retries on its own
 * timers without writing history per attempt, so history grows by one activity (about six events)
 * per status change, not per poll.
 *
 * For the Web UI, the wait keeps its current details (status, since when, polls, deadline) and,
 * when asked to, its search attributes up to date; the caller gives it a summary at start
 * (`startAwaitExport` in src/client.ts).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TemporalFailure,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState, TimeoutType, msToNumber, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { createActivities, GetExportJobInput, GetExportJobResult } from '../activities';
import { resolveCadence, type ResolvedCadence } from '../cadence';
import {
  DEFAULT_WAIT_TIMEOUT,
  ExportSearchAttribute,
  FailureType,
  exportStatusQuery,
  pollNowSignal,
  refreshStatusUpdate,
  type AwaitExportCarried,
  type AwaitExportInput,
  type AwaitExportResult,
  type AwaitExportState,
  type ExportStatus,
} from '../shared';
import { currentDetails } from './details';

type Activities = ReturnType<typeof createActivities>;

/** One attempt: above the client's 10 s HTTP timeout, so the client's own timeout reports first. */
const ATTEMPT_TIMEOUT_MS = 30_000;
/**
 * The look taken at the deadline itself: long enough for one answer and a retry of a transient
 * error, short enough that the wait ends close to its deadline.
 */
const FINAL_LOOK_MS = 60_000;
/**
 * Runs continue-as-new past this many events. A wait needs a handful of events per status change,
 * so only a flood of poll-now signals or updates gets here; the server's own limit is 51,200.
 */
const CONTINUE_AS_NEW_AFTER_EVENTS = 2_000;
/**
 * Marks histories made by code that upserts search attributes. A client may ask for them before
 * every worker runs this code: a history an older worker began without them replays without them.
 */
const SEARCH_ATTRIBUTES_PATCH = 'search-attributes';

export async function awaitExport(input: AwaitExportInput): Promise<AwaitExportResult> {
  const { exportId } = input;
  const { cadence, timeoutMs } = resolveOptions(input);
  // What the wait knows so far; the query, the update, continue-as-new and the result read it.
  const progress = input.carried ?? freshProgress(timeoutMs);
  const deadlineMs = Date.parse(progress.deadline);
  const searchAttributes = input.searchAttributes === true && patched(SEARCH_ATTRIBUTES_PATCH);
  /** Shows `progress` in the Web UI; commands only when a search attribute changes. */
  const publish = (): void => {
    setCurrentDetails(currentDetails(exportId, progress));
    if (searchAttributes) upsertChangedSearchAttributes(exportId, progress.job?.status);
  };
  publish();

  // Poll-now bookkeeping: `requested` counts requests, `started` is the count the running poll
  // was started after, `answered` the count the last recorded answer was started after.
  const pollNow = { requested: 0, started: 0, answered: 0 };
  let interruptible: CancellationScope | undefined;
  let finished = false;

  const requestPollNow = (): number => {
    pollNow.requested += 1;
    interruptible?.cancel();
    return pollNow.requested;
  };
  setHandler(exportStatusQuery, () => stateOf(exportId, progress));
  setHandler(pollNowSignal, () => {
    requestPollNow();
  });
  setHandler(refreshStatusUpdate, async () => {
    const ticket = requestPollNow();
    await condition(() => finished || pollNow.answered >= ticket);
    return stateOf(exportId, progress);
  });

  /** Runs `fn` where a poll-now can cut it short; resolves `undefined` if it did. */
  const unlessPolledNow = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    interruptible = new CancellationScope();
    try {
      return await interruptible.run(fn);
    } catch (err) {
      if (isCancellation(err) && !CancellationScope.current().consideredCancelled) return undefined;
      throw err;
    } finally {
      interruptible = undefined;
    }
  };

  try {
    for (;;) {
      const forced = pollNow.requested > pollNow.started;
      pollNow.started = pollNow.requested;
      const untilDeadlineMs = deadlineMs - workflowNow();
      const atDeadline = untilDeadlineMs <= 0;
      // A forced look and the look at the deadline want the current status, changed or not.
      const whileStatus = forced || atDeadline ? undefined : progress.job?.status;

      let answer: GetExportJobResult | undefined;
      try {
        answer = await unlessPolledNow(() =>
          getExportJob(
            { exportId, cadence, ...(whileStatus === undefined ? {} : { whileStatus }) },
            cadence,
            atDeadline ? FINAL_LOOK_MS : untilDeadlineMs,
          ),
        );
      } catch (err) {
        if (!isDeadline(err)) throw failureOf(exportId, err);
        if (atDeadline) throw timedOut(exportId, progress, err);
        // The server gives up early when the next retry would land after the deadline; wait out the
        // rest so that the final look happens at the deadline, never before.
        const restMs = deadlineMs - workflowNow();
        const summary = `wait until the deadline ${progress.deadline}, then read export ${exportId} once more`;
        if (restMs > 0) await unlessPolledNow(() => sleep(restMs, { summary }));
        continue;
      }
      if (answer === undefined) continue;

      record(progress, answer);
      publish();
      const { job } = answer;
      if (isTerminal(job.status)) {
        pollNow.answered = pollNow.requested;
        return outcome(progress, answer);
      }
      pollNow.answered = pollNow.started;
      if (atDeadline) throw timedOut(exportId, progress, undefined);

      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
        await condition(() => allHandlersFinished() || pollNow.requested > pollNow.started);
        if (pollNow.requested === pollNow.started) {
          await continueAsNew<typeof awaitExport>({ ...input, carried: progress });
        }
      }
    }
  } finally {
    // Lets a pending refreshStatus answer with the final state instead of being dropped.
    finished = true;
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }
}

function getExportJob(
  input: GetExportJobInput,
  cadence: ResolvedCadence,
  scheduleToCloseMs: number,
): Promise<GetExportJobResult> {
  return proxyActivities<Activities>({
    startToCloseTimeout: ATTEMPT_TIMEOUT_MS,
    scheduleToCloseTimeout: scheduleToCloseMs,
    // Transient errors back off like polls do; `ExportNotReady` and 429 set their own delay. No
    // attempt limit: the deadline (schedule-to-close) ends the retries.
    retry: {
      initialInterval: cadence.initialIntervalMs,
      backoffCoefficient: cadence.backoffCoefficient,
      maximumInterval: cadence.maximumIntervalMs,
    },
    summary:
      input.whileStatus === undefined
        ? `read export ${input.exportId}`
        : `poll export ${input.exportId} until it leaves ${input.whileStatus}`,
  }).getExportJob(input);
}

/** Workflow time: the sandbox's `Date` is replay-safe, fixed for the length of an activation. */
function workflowNow(): number {
  return new Date().getTime();
}

function resolveOptions(input: AwaitExportInput): { cadence: ResolvedCadence; timeoutMs: number } {
  try {
    const timeoutMs = msToNumber(input.timeout ?? DEFAULT_WAIT_TIMEOUT);
    if (!(timeoutMs >= 1)) throw new Error('timeout must be at least 1 ms');
    return { cadence: resolveCadence(input), timeoutMs };
  } catch (err) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidWaitOptions,
      nonRetryable: true,
      message: `cannot wait for export ${input.exportId}: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}

function freshProgress(timeoutMs: number): AwaitExportCarried {
  const startedAt = workflowInfo().startTime;
  return {
    firstStartedAt: startedAt.toISOString(),
    deadline: new Date(startedAt.getTime() + timeoutMs).toISOString(),
    polls: 0,
    statusHistory: [],
  };
}

function stateOf(exportId: string, progress: AwaitExportCarried): AwaitExportState {
  return {
    exportId,
    status: progress.job?.status,
    statusSince: progress.statusSince,
    polls: progress.polls,
    deadline: progress.deadline,
    job: progress.job,
  };
}

/**
 * Upserts the search attributes that differ from what the workflow's own say: at most one command
 * per status change. What a run inherits (from its start options or across continue-as-new)
 * counts, so an unchanged status is never upserted twice.
 */
function upsertChangedSearchAttributes(exportId: string, status: ExportStatus | undefined): void {
  const current = workflowInfo().typedSearchAttributes;
  const changes: SearchAttributeUpdatePair[] = [];
  if (current.get(ExportSearchAttribute.ExportId) !== exportId) {
    changes.push({ key: ExportSearchAttribute.ExportId, value: exportId });
  }
  if (status !== undefined && current.get(ExportSearchAttribute.ExportStatus) !== status) {
    changes.push({ key: ExportSearchAttribute.ExportStatus, value: status });
  }
  if (changes.length > 0) upsertSearchAttributes(changes);
}

/** Counts the poll's requests and notes a status change with the time the activity saw it. */
function record(progress: AwaitExportCarried, answer: GetExportJobResult): void {
  progress.polls += answer.attempts;
  if (answer.job.status !== progress.job?.status) {
    progress.statusSince = answer.observedAt;
    progress.statusHistory.push({ status: answer.job.status, at: answer.observedAt });
  }
  progress.job = answer.job;
}

function isTerminal(status: ExportStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled';
}

/**
 * The result for `succeeded`; throws the failure a caller branches on for `failed` / `canceled`,
 * its message naming the reason and the request that reported it (what the Web UI's failure panel
 * shows).
 */
function outcome(progress: AwaitExportCarried, { job, requestId }: GetExportJobResult): AwaitExportResult {
  const reason = job.reason ?? null;
  if (job.status === 'failed' || job.status === 'canceled') {
    const failed = job.status === 'failed';
    const notes: string[] = [];
    if (reason === null) notes.push('the API gave no reason');
    if (requestId !== undefined) notes.push(`request ${requestId}`);
    throw ApplicationFailure.create({
      type: failed ? FailureType.ExportFailed : FailureType.ExportCanceled,
      nonRetryable: true,
      message:
        `export ${job.id} ${failed ? 'failed' : 'was canceled'}${reason === null ? '' : `: ${reason}`}` +
        (notes.length === 0 ? '' : ` (${notes.join('; ')})`),
      details: [{ exportId: job.id, reason, job, requestId: requestId ?? null }],
    });
  }
  return {
    job,
    polls: progress.polls,
    elapsedMs: workflowNow() - Date.parse(progress.firstStartedAt),
    statusHistory: progress.statusHistory,
  };
}

/** The server stopped retrying because the schedule-to-close timeout (the deadline) came first. */
function isDeadline(err: unknown): boolean {
  return err instanceof ActivityFailure && err.retryState === RetryState.TIMEOUT;
}

/**
 * A poll that cannot succeed by retrying: the wait fails at once with the activity's failure type,
 * the activity's failure kept as the cause.
 */
function failureOf(exportId: string, err: unknown): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  const cause = err.cause;
  return ApplicationFailure.create({
    type: cause.type ?? 'Error',
    nonRetryable: true,
    message: cause.message.includes(exportId) ? cause.message : `export ${exportId}: ${cause.message}`,
    details: cause.details ?? [],
    cause: err,
  });
}

function timedOut(exportId: string, progress: AwaitExportCarried, err: unknown): ApplicationFailure {
  const lastStatus = progress.job?.status ?? null;
  const lastError = lastErrorIn(err);
  const seen = lastStatus === null ? 'before any status was read' : `while still ${lastStatus}`;
  return ApplicationFailure.create({
    type: FailureType.ExportTimedOut,
    nonRetryable: true,
    message:
      `export ${exportId} reached the wait's deadline ${progress.deadline} ${seen}` +
      (lastError === undefined ? '' : `; last error: ${lastError}`),
    details: [{ exportId, lastStatus, deadline: progress.deadline }],
    ...(err instanceof Error ? { cause: err } : {}),
  });
}

/** The newest real error under a deadline failure: not the deadline itself, not "not ready". */
function lastErrorIn(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof TemporalFailure; e = e.cause) {
    if (e instanceof ActivityFailure) continue;
    if (e instanceof TimeoutFailure && e.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE) continue;
    if (e instanceof ApplicationFailure && e.type === FailureType.ExportNotReady) continue;
    return e.message;
  }
  return undefined;
}
