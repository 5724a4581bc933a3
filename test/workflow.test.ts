/**
 * `awaitExport` on real Temporal servers against the real emulator over HTTP. Most cases run on the
 * time-skipping test server: activity retry backoff is a server timer, which it skips, so hours of
 * polling take real seconds. Cases that need real time (Retry-After measured on the emulator's
 * clock) or a server setting (continue-as-new suggested early) run on the dev server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { createDevServerEnv, createTimeSkippingEnv } from './helpers/temporal';
import { historiesOfChain, startExportWaits, type ExportWaits } from './helpers/export-waits';
import { hasExportSearchAttributes, startAwaitExport } from '../src/client';
import {
  ExportSearchAttribute,
  FailureType,
  awaitExportWorkflowId,
  exportStatusQuery,
  pollNowSignal,
  refreshStatusUpdate,
  type AwaitExportInput,
} from '../src/shared';
import { awaitExport } from '../src/workflows';
import { nanosToIso } from '../src/workflows/details';
import { exportPipeline } from './workflows/parent';

/** A broken wait fails its test instead of hanging the suite (each takes a few real seconds). */
const LIMIT = { timeout: 60_000 };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The ApplicationFailure a failed wait hands its caller. */
async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await result.then(
    () => assert.fail('expected the wait to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
  assert.ok(error.cause instanceof ApplicationFailure, `expected an ApplicationFailure cause, got ${String(error.cause)}`);
  return error.cause;
}

/** Waits (real time, bounded) for something the workflow does on its own, without moving server time. */
async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (await check()) return;
    await delay(50);
  }
  assert.fail(`gave up waiting until ${what}`);
}

/** What the Web UI shows as the wait's current details. */
async function currentDetailsOf(handle: WorkflowHandleWithFirstExecutionRunId): Promise<string | null | undefined> {
  return (await handle.query(workflowMetadataQuery)).currentDetails;
}

/** Server start and close times of a closed wait, epoch ms. */
async function startAndClose(handle: WorkflowHandleWithFirstExecutionRunId): Promise<{ startMs: number; closeMs: number }> {
  const { startTime, closeTime } = await handle.describe();
  assert.ok(closeTime !== undefined, 'the wait is still open');
  return { startMs: startTime.getTime(), closeMs: closeTime.getTime() };
}

test('nanosToIso renders int64 nanoseconds exactly, in UTC, with only the fraction digits it needs', () => {
  assert.equal(nanosToIso('1704067200123456789'), '2024-01-01T00:00:00.123456789Z');
  assert.equal(nanosToIso('1704067200000000000'), '2024-01-01T00:00:00Z');
  assert.equal(nanosToIso('1704067200000500000'), '2024-01-01T00:00:00.0005Z');
  assert.equal(nanosToIso('0'), '1970-01-01T00:00:00Z');
  assert.equal(nanosToIso('-1'), '1969-12-31T23:59:59.999999999Z');
  assert.equal(nanosToIso('9223372036854775807'), '2262-04-11T23:47:16.854775807Z');
  assert.equal(nanosToIso('-9223372036854775808'), '1677-09-21T00:12:43.145224192Z');
});

describe('awaitExport on the time-skipping test server', () => {
  let waits: ExportWaits;
  before(async () => {
    waits = await startExportWaits(createTimeSkippingEnv);
  });
  after(async () => {
    await waits.close();
  });

  /** Starts a wait on `taskQueue` under a workflow id of its own. */
  function start(taskQueue: string, input: AwaitExportInput) {
    return waits.env.client.workflow.start(awaitExport, {
      taskQueue,
      workflowId: `test-${awaitExportWorkflowId(input.exportId)}`,
      args: [input],
    });
  }

  test('succeeded: returns the job, the polls and every status change', LIMIT, async () => {
    const { emulator } = waits;
    const exportId = emulator.createExport({
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 2 }, { status: 'succeeded', afterPolls: 4 }],
    });
    // Without jitter the polls fall at 0 s (queued), 0 s and 5 s (running), 5 s and 10 s (succeeded).
    const result = await waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId, jitter: 0 })).result());

    assert.equal(result.job.id, exportId);
    assert.equal(result.job.status, 'succeeded');
    assert.equal(result.job.start_time, '1704067200123456789');
    assert.equal(result.job.end_time, '1704070800987654321');
    assert.deepEqual(
      result.statusHistory.map((o) => o.status),
      ['queued', 'running', 'succeeded'],
    );
    for (const { at } of result.statusHistory) assert.equal(new Date(at).toISOString(), at);
    assert.equal(result.polls, 5);
    assert.equal(waits.requestsFor(exportId).length, 5);
    assert.ok(result.elapsedMs >= 10_000, `elapsedMs ${result.elapsedMs} is shorter than the two 5 s intervals`);
  });

  test('failed: the ExportFailed failure carries the reason and the job to the caller', LIMIT, async () => {
    const reason = 'no data in the requested range';
    const exportId = waits.emulator.createExport({
      lifecycle: [{ status: 'queued' }, { status: 'failed', afterPolls: 1, reason }],
    });
    const failure = await failureOf(waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId })).result()));

    // The request that saw `failed`: the message names it, as the Web UI's failure panel shows.
    const requestId = waits.requestsFor(exportId).at(-1)?.requestId;
    assert.equal(failure.type, FailureType.ExportFailed);
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.message, `export ${exportId} failed: ${reason} (request ${requestId})`);
    const [details] = failure.details as [
      { exportId: string; reason: string; requestId: string; job: { id: string; status: string; reason: string } },
    ];
    assert.equal(details.exportId, exportId);
    assert.equal(details.reason, reason);
    assert.equal(details.requestId, requestId);
    assert.equal(details.job.id, exportId);
    assert.equal(details.job.status, 'failed');
    assert.equal(details.job.reason, reason);
  });

  test('canceled: fails with ExportCanceled', LIMIT, async () => {
    const exportId = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }, { status: 'canceled', afterPolls: 1 }] });
    const failure = await failureOf(waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId })).result()));

    assert.equal(failure.type, FailureType.ExportCanceled);
    assert.equal(failure.nonRetryable, true);
    const requestId = waits.requestsFor(exportId).at(-1)?.requestId;
    assert.equal(failure.message, `export ${exportId} was canceled (the API gave no reason; request ${requestId})`);
    const [details] = failure.details as [{ exportId: string; reason: null; job: { status: string } }];
    assert.deepEqual([details.exportId, details.reason, details.job.status], [exportId, null, 'canceled']);
  });

  test('deadline: fails with ExportTimedOut naming the last status, not before the deadline', LIMIT, async () => {
    const exportId = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const { failure, times, history } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId, timeout: '10m' });
      return { failure: await failureOf(handle.result()), times: await startAndClose(handle), history: await handle.fetchHistory() };
    });

    const deadline = new Date(times.startMs + 10 * 60_000).toISOString();
    // The timer that waits out the deadline says what it is for in the Web UI.
    const timer = history.events?.find((e) => e.timerStartedEventAttributes);
    assert.equal(
      timer?.userMetadata?.summary && defaultPayloadConverter.fromPayload(timer.userMetadata.summary),
      `wait until the deadline ${deadline}, then read export ${exportId} once more`,
    );
    assert.equal(failure.type, FailureType.ExportTimedOut);
    assert.equal(failure.message, `export ${exportId} reached the wait's deadline ${deadline} while still queued`);
    assert.deepEqual(failure.details, [{ exportId, lastStatus: 'queued', deadline }]);
    assert.ok(times.closeMs >= Date.parse(deadline), 'the wait gave up before its deadline');
  });

  test('transient errors never fail the wait before its deadline, and the last one is named', LIMIT, async () => {
    const exportId = waits.emulator.createExport({ lifecycle: [{ status: 'succeeded' }] });
    waits.emulator.injectFault({ exportId, status: 503, times: Infinity });
    const { failure, times } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId, timeout: '5m' });
      return { failure: await failureOf(handle.result()), times: await startAndClose(handle) };
    });

    assert.equal(failure.type, FailureType.ExportTimedOut);
    assert.match(failure.message, new RegExp(`^export ${exportId} reached the wait's deadline \\S+ before any status was read; last error: .*HTTP 503`));
    assert.ok(times.closeMs >= times.startMs + 5 * 60_000, 'the wait gave up before its deadline');
    // 5 s, 7.5 s, … capped at 1 min: about ten retries fit in 5 minutes.
    assert.ok(waits.requestsFor(exportId).length >= 8, 'the transient errors were not retried');
  });

  test('404 fails at once with ExportNotFound after one request', LIMIT, async () => {
    const exportId = `exp_${randomBytes(16).toString('hex')}`;
    const { failure, times } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId });
      return { failure: await failureOf(handle.result()), times: await startAndClose(handle) };
    });

    assert.equal(failure.type, FailureType.ExportNotFound);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, new RegExp(`${exportId}.*404`));
    assert.equal(waits.requestsFor(exportId).length, 1);
    assert.ok(failure.message.includes(`request ${waits.requestsFor(exportId)[0]?.requestId}`), failure.message);
    // Server time moves only when skipped: a retry would have skipped at least the 5 s interval.
    assert.ok(times.closeMs - times.startMs < 5_000, `took ${times.closeMs - times.startMs} ms of server time`);
  });

  test("another permanent API error fails at once, typed with the API's error code", LIMIT, async () => {
    const exportId = waits.emulator.createExport();
    waits.emulator.injectFault({ exportId, status: 402 });
    const failure = await failureOf(waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId })).result()));

    assert.equal(failure.type, 'payment_required');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, new RegExp(`${exportId}.*402`));
    assert.equal(waits.requestsFor(exportId).length, 1);
  });

  test('a malformed export id fails at once with InvalidExportId and sends nothing', LIMIT, async () => {
    const exportId = 'exp_not-an-id';
    const failure = await failureOf(waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId })).result()));

    assert.equal(failure.type, FailureType.InvalidExportId);
    assert.ok(failure.message.includes(exportId), failure.message);
    assert.equal(waits.requestsFor(exportId).length, 0);
  });

  test('malformed wait options fail at once with InvalidWaitOptions', LIMIT, async () => {
    const exportId = waits.emulator.createExport();
    const failure = await failureOf(
      waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId, backoffCoefficient: 0.5 })).result()),
    );

    assert.equal(failure.type, FailureType.InvalidWaitOptions);
    assert.equal(failure.message, `cannot wait for export ${exportId}: backoffCoefficient must be at least 1`);
    assert.equal(waits.requestsFor(exportId).length, 0);
  });

  test('5xx answers are retried until the export answers', LIMIT, async () => {
    const exportId = waits.emulator.createExport({ lifecycle: [{ status: 'succeeded' }] });
    waits.emulator.injectFault({ exportId, status: 503, times: 2 });
    const result = await waits.withWorker(async (taskQueue) => (await start(taskQueue, { exportId })).result());

    assert.equal(result.job.status, 'succeeded');
    assert.deepEqual(
      waits.requestsFor(exportId).map((r) => r.status),
      [503, 503, 200],
    );
    assert.equal(result.polls, 3);
  });

  test('a wait of three days ends with the result in at most 100 history events', LIMIT, async () => {
    const { env, emulator } = waits;
    const exportId = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const { result, histories } = await waits.withWorker(async (taskQueue) => {
      // A 30 min ceiling keeps the test to a few hundred real polls; events do not depend on it.
      const handle = await start(taskQueue, { exportId, maximumInterval: '30m' });
      await env.sleep('1d');
      emulator.setStatus(exportId, 'running');
      await env.sleep('2d');
      emulator.setStatus(exportId, 'succeeded');
      return { result: await handle.result(), histories: await historiesOfChain(handle) };
    });

    assert.equal(result.job.status, 'succeeded');
    assert.deepEqual(
      result.statusHistory.map((o) => o.status),
      ['queued', 'running', 'succeeded'],
    );
    assert.ok(result.elapsedMs >= 3 * DAY_MS && result.elapsedMs < 3 * DAY_MS + HOUR_MS, `elapsedMs ${result.elapsedMs}`);
    assert.equal(result.polls, waits.requestsFor(exportId).length);
    const events = histories.reduce((sum, h) => sum + (h.events?.length ?? 0), 0);
    assert.ok(events <= 100, `${events} history events`);
  });

  test('a parent workflow catches ExportFailed from the child wait and reads its reason', LIMIT, async () => {
    const reason = 'datastream 42 has no span in range';
    const exportId = waits.emulator.createExport({
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 1 }, { status: 'failed', afterPolls: 2, reason }],
    });
    const outcome = await waits.withWorker((taskQueue) =>
      waits.env.client.workflow.execute(exportPipeline, {
        taskQueue,
        workflowId: `test-pipeline-${exportId}`,
        args: [{ exportId }],
      }),
    );

    assert.deepEqual(outcome, { exportFailed: reason });
  });

  test('the exportStatus query answers mid-wait', LIMIT, async () => {
    const { emulator } = waits;
    const exportId = emulator.createExport({ lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 1 }] });
    const { state, times } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId });
      await eventually('the wait has seen running', async () => (await handle.query(exportStatusQuery)).status === 'running');
      const state = await handle.query(exportStatusQuery);
      emulator.setStatus(exportId, 'succeeded');
      await handle.result();
      return { state, times: await startAndClose(handle) };
    });

    assert.equal(state.exportId, exportId);
    assert.equal(state.status, 'running');
    assert.equal(state.job?.status, 'running');
    // First poll: queued; second (the first of the wait for a change): running.
    assert.equal(state.polls, 2);
    assert.equal(state.deadline, new Date(times.startMs + 7 * DAY_MS).toISOString());
    assert.ok(state.statusSince !== undefined && !Number.isNaN(Date.parse(state.statusSince)), `statusSince ${state.statusSince}`);
  });

  test('the current details show the export, its status since when, the polls and the deadline', LIMIT, async () => {
    const { emulator } = waits;
    const exportId = emulator.createExport({
      datastreamId: 7,
      startTime: '1704067200000000000',
      endTime: '1704070800000500000',
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 1 }],
    });
    const { running, state, final } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId });
      await eventually('the wait has seen running', async () => (await handle.query(exportStatusQuery)).status === 'running');
      const running = await currentDetailsOf(handle);
      const state = await handle.query(exportStatusQuery);
      emulator.setStatus(exportId, 'succeeded');
      await handle.result();
      return { running, state, final: await currentDetailsOf(handle) };
    });

    const range = '- **Time range:** 2024-01-01T00:00:00Z to 2024-01-01T01:00:00.0005Z';
    assert.equal(
      running,
      [
        `- **Status:** running since ${state.statusSince}`,
        `- **Export:** ${exportId}`,
        '- **Datastream:** 7',
        range,
        '- **Polls answered:** 2, plus the retries of the pending poll',
        `- **Deadline:** ${state.deadline}`,
      ].join('\n'),
    );
    assert.match(final ?? '', /^- \*\*Status:\*\* succeeded since \S+Z\n/);
    // No pending poll once the wait is over: every request is answered and counted.
    const polls = waits.requestsFor(exportId).length;
    assert.ok(final?.includes(`\n${range}\n- **Polls answered:** ${polls}\n`), final ?? 'no details');
  });

  test('before any status is read, the current details say so', LIMIT, async () => {
    const exportId = waits.emulator.createExport();
    waits.emulator.injectFault({ exportId, status: 503, times: Infinity });
    const { details, deadline } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId });
      await eventually('the first poll was refused', () => waits.requestsFor(exportId).length > 0);
      const details = await currentDetailsOf(handle);
      const { deadline } = await handle.query(exportStatusQuery);
      await handle.terminate('test done');
      return { details, deadline };
    });

    assert.equal(
      details,
      [
        '- **Status:** not read yet',
        `- **Export:** ${exportId}`,
        '- **Polls answered:** 0, plus the retries of the pending poll',
        `- **Deadline:** ${deadline}`,
      ].join('\n'),
    );
  });

  test('without the searchAttributes option a server that has none registered completes the wait and sets none', LIMIT, async () => {
    const exportId = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }, { status: 'succeeded', afterPolls: 1 }] });
    const { result, attributes } = await waits.withWorker(async (taskQueue) => {
      const handle = await startAwaitExport(waits.env.client, { exportId, initialInterval: '1s' }, { taskQueue });
      return { result: await handle.result(), attributes: (await handle.describe()).typedSearchAttributes };
    });

    assert.equal(await hasExportSearchAttributes(waits.env.client), false);
    assert.equal(result.job.status, 'succeeded');
    assert.equal(attributes.get(ExportSearchAttribute.ExportId), undefined);
    assert.equal(attributes.get(ExportSearchAttribute.ExportStatus), undefined);
  });

  test('the pollNow signal polls at once instead of after the interval', LIMIT, async () => {
    const { emulator } = waits;
    const exportId = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const result = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId, initialInterval: '1h', maximumInterval: '1h' });
      // The second request is the first of the wait for a change; the next would come in an hour.
      await eventually('two polls were made', () => waits.requestsFor(exportId).length === 2);
      emulator.setStatus(exportId, 'succeeded');
      await handle.signal(pollNowSignal);
      return handle.result();
    });

    assert.equal(waits.requestsFor(exportId).length, 3);
    assert.deepEqual(
      result.statusHistory.map((o) => o.status),
      ['queued', 'succeeded'],
    );
    assert.ok(result.elapsedMs < HOUR_MS, `elapsedMs ${result.elapsedMs}: the poll waited for the interval`);
  });

  test('the refreshStatus update polls at once and answers what that poll saw', LIMIT, async () => {
    const { emulator } = waits;
    const exportId = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const { refreshed, final, result } = await waits.withWorker(async (taskQueue) => {
      const handle = await start(taskQueue, { exportId, initialInterval: '1h', maximumInterval: '1h' });
      await eventually('two polls were made', () => waits.requestsFor(exportId).length === 2);
      emulator.setStatus(exportId, 'running');
      const refreshed = await handle.executeUpdate(refreshStatusUpdate);
      // The wait for a change out of running polls at once, then an hour later.
      await eventually('the wait for a change polled', () => waits.requestsFor(exportId).length === 4);
      emulator.setStatus(exportId, 'succeeded');
      const final = await handle.executeUpdate(refreshStatusUpdate);
      return { refreshed, final, result: await handle.result() };
    });

    assert.equal(refreshed.status, 'running');
    // The first poll and the refresh; the interrupted wait's request is not reported back.
    assert.equal(refreshed.polls, 2);
    assert.equal(final.status, 'succeeded');
    assert.equal(waits.requestsFor(exportId).length, 5);
    assert.deepEqual(
      result.statusHistory.map((o) => o.status),
      ['queued', 'running', 'succeeded'],
    );
    assert.ok(result.elapsedMs < HOUR_MS, `elapsedMs ${result.elapsedMs}: a poll waited for the interval`);
  });

  test('two starts for the same export share one wait', LIMIT, async () => {
    const { env, emulator } = waits;
    const exportId = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const { first, second, firstResult, secondResult } = await waits.withWorker(async (taskQueue) => {
      const options = {
        taskQueue,
        workflowId: awaitExportWorkflowId(exportId),
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [{ exportId }],
      } as const;
      const first = await env.client.workflow.start(awaitExport, options);
      const second = await env.client.workflow.start(awaitExport, options);
      emulator.setStatus(exportId, 'succeeded');
      // One result at a time: each call unlocks the server's time skipping for its duration.
      return { first, second, firstResult: await first.result(), secondResult: await second.result() };
    });

    assert.equal(first.workflowId, `await-export-${exportId}`);
    assert.equal(second.firstExecutionRunId, first.firstExecutionRunId);
    assert.deepEqual(secondResult, firstResult);
    assert.equal(firstResult.polls, waits.requestsFor(exportId).length);
  });
});

describe('awaitExport on the dev server', () => {
  let waits: ExportWaits;
  before(async () => {
    // The server suggests continue-as-new from this history length on (default: thousands).
    waits = await startExportWaits(() =>
      createDevServerEnv({
        extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=8'],
        searchAttributes: Object.values(ExportSearchAttribute),
      }),
    );
  });
  after(async () => {
    await waits.close();
  });

  test("a 429's Retry-After is honoured: the next request waits that long", LIMIT, async () => {
    const exportId = waits.emulator.createExport({ lifecycle: [{ status: 'succeeded' }] });
    waits.emulator.injectFault({ exportId, status: 429, headers: { 'Retry-After': '2' } });
    const result = await waits.withWorker((taskQueue) =>
      waits.env.client.workflow.execute(awaitExport, {
        taskQueue,
        workflowId: `test-${awaitExportWorkflowId(exportId)}`,
        // Without Retry-After the retry would come after 100 ms.
        args: [{ exportId, initialInterval: '100ms', maximumInterval: '100ms' }],
      }),
    );

    const [limited, next] = waits.requestsFor(exportId);
    assert.ok(limited !== undefined && next !== undefined, 'expected two requests');
    assert.deepEqual([limited.status, next.status], [429, 200]);
    assert.ok(next.at - limited.at >= 2_000, `the retry came ${next.at - limited.at} ms after the 429`);
    assert.equal(result.polls, 2);
  });

  test('continue-as-new carries the polls, the status history and the deadline', LIMIT, async () => {
    const exportId = waits.emulator.createExport({
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 2 }, { status: 'succeeded', afterPolls: 4 }],
    });
    const { result, histories, state, startMs } = await waits.withWorker(async (taskQueue) => {
      const handle = await waits.env.client.workflow.start(awaitExport, {
        taskQueue,
        workflowId: `test-${awaitExportWorkflowId(exportId)}`,
        args: [{ exportId, initialInterval: '100ms', maximumInterval: '100ms', jitter: 0 }],
      });
      const { startTime } = await handle.describe();
      const result = await handle.result();
      // The latest run, closed but still queryable while the worker runs.
      const state = await waits.env.client.workflow.getHandle(handle.workflowId).query(exportStatusQuery);
      return { result, histories: await historiesOfChain(handle), state, startMs: startTime.getTime() };
    });

    assert.ok(histories.length >= 2, `expected continue-as-new, got ${histories.length} run(s)`);
    assert.deepEqual(
      result.statusHistory.map((o) => o.status),
      ['queued', 'running', 'succeeded'],
    );
    assert.equal(result.polls, waits.requestsFor(exportId).length);
    assert.equal(state.deadline, new Date(startMs + 7 * DAY_MS).toISOString());
    assert.equal(state.polls, result.polls);
  });

  test('with searchAttributes on, a list query by status finds the waiting export, across continue-as-new', LIMIT, async () => {
    const { env, emulator } = waits;
    const exportId = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const listed = async (status: string): Promise<string[]> => {
      const query = `TicksupplyExportStatus = '${status}' AND TicksupplyExportId = '${exportId}' AND ExecutionStatus = 'Running'`;
      const ids: string[] = [];
      for await (const execution of env.client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids;
    };
    const { queued, running, stillQueued, result, attributes, histories } = await waits.withWorker(async (taskQueue) => {
      const handle = await startAwaitExport(
        env.client,
        { exportId, searchAttributes: true, initialInterval: '100ms', maximumInterval: '100ms' },
        { taskQueue },
      );
      await eventually('the wait is listed as queued', async () => (await listed('queued')).length > 0);
      const queued = await listed('queued');
      emulator.setStatus(exportId, 'running');
      await eventually('the wait is listed as running', async () => (await listed('running')).length > 0);
      const running = await listed('running');
      const stillQueued = await listed('queued');
      emulator.setStatus(exportId, 'succeeded');
      const result = await handle.result();
      return { queued, running, stillQueued, result, attributes: (await handle.describe()).typedSearchAttributes, histories: await historiesOfChain(handle) };
    });

    assert.equal(await hasExportSearchAttributes(env.client), true);
    assert.deepEqual(queued, [awaitExportWorkflowId(exportId)]);
    assert.deepEqual(running, [awaitExportWorkflowId(exportId)]);
    assert.deepEqual(stillQueued, []);
    assert.equal(result.job.status, 'succeeded');
    assert.equal(attributes.get(ExportSearchAttribute.ExportId), exportId);
    assert.equal(attributes.get(ExportSearchAttribute.ExportStatus), 'succeeded');
    assert.ok(histories.length >= 2, `expected continue-as-new, got ${histories.length} run(s)`);
    // The id comes with the start; each status is upserted once, whatever the number of runs.
    const upserted = histories
      .flatMap((h) => h.events ?? [])
      .flatMap((e) => Object.entries(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}))
      .filter(([name]) => name.startsWith('Ticksupply'))
      .map(([name, payload]) => `${name}=${String(defaultPayloadConverter.fromPayload(payload))}`);
    assert.deepEqual(upserted, ['TicksupplyExportStatus=queued', 'TicksupplyExportStatus=running', 'TicksupplyExportStatus=succeeded']);
  });
});
