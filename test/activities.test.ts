import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import type { Info } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { createActivities, RetryableFailureType, type GetExportJobInput, type GetExportJobResult } from '../src/activities';
import { resolveCadence } from '../src/cadence';
import { startEmulator, type EmulatorOptions, type Fault } from '../src/emulator';
import { FailureType } from '../src/shared';
import { TicksupplyAbortError, TicksupplyClient, TicksupplyError, type TicksupplyClientOptions } from '../src/ticksupply';

const API_KEY = 'key_4c3b2a.activity-s3cr3t';
const UNKNOWN_ID = 'exp_0194a1b2c3d4e5f6a7b8c9d0e1f2a3b4';

async function setup(t: TestContext, clientOptions: Partial<TicksupplyClientOptions> = {}, emulatorOptions: EmulatorOptions = {}) {
  const emulator = await startEmulator({ apiKey: API_KEY, ...emulatorOptions });
  t.after(() => emulator.close());
  const client = new TicksupplyClient({ apiKey: API_KEY, baseUrl: emulator.url, ...clientOptions });
  const { getExportJob } = createActivities({ client });
  const logs: LogEntry[] = [];
  /** Runs the activity in a fresh mock environment, as attempt `info.attempt` (default 1). */
  const run = (input: GetExportJobInput, info: Partial<Info> = {}) => {
    const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('DEBUG', (entry) => logs.push(entry)) });
    return { env, result: env.run<[GetExportJobInput], GetExportJobResult, typeof getExportJob>(getExportJob, input) };
  };
  const lastRequestId = () => emulator.requests.at(-1)?.requestId;
  return { emulator, run, logs, lastRequestId };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    (value) => assert.fail(`expected a failure, got ${inspect(value)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, inspect(error));
  return error;
}

interface Expected {
  type: string;
  nonRetryable: boolean;
  nextRetryDelay?: number;
  status?: number;
  code?: string;
  requestId?: string | undefined;
}

/** Type, retryability, delay, cause, details, and the one-line message with id, status and request id. */
function assertFailure(failure: ApplicationFailure, exportId: string, expected: Expected) {
  assert.equal(failure.type, expected.type);
  assert.equal(failure.nonRetryable, expected.nonRetryable);
  assert.equal(failure.nextRetryDelay, expected.nextRetryDelay);
  assert.ok(failure.cause instanceof TicksupplyError, inspect(failure.cause));
  assert.deepEqual(failure.details, [{ exportId, status: expected.status, code: expected.code, requestId: expected.requestId }]);
  assert.doesNotMatch(failure.message, /[\r\n]/);
  assert.ok(failure.message.includes(exportId), failure.message);
  assert.ok(failure.message.includes(expected.status === undefined ? 'no HTTP response' : `HTTP ${expected.status},`), failure.message);
  if (expected.requestId !== undefined) assert.ok(failure.message.includes(`request ${expected.requestId}:`), failure.message);
  assert.ok(!inspect(failure, { depth: 10, showHidden: true }).includes(API_KEY), 'the API key leaked into the failure');
}

test('an id that is not exp_ + 32 lowercase hex fails InvalidExportId, non-retryable, without a request', async (t) => {
  const { emulator, run } = await setup(t);
  const failure = await failureOf(run({ exportId: 'exp_NOT-HEX' }).result);
  assert.equal(failure.type, FailureType.InvalidExportId);
  assert.equal(failure.nonRetryable, true);
  assert.deepEqual(failure.details, [{ exportId: 'exp_NOT-HEX', status: undefined, code: undefined, requestId: undefined }]);
  assert.equal(failure.message, 'export "exp_NOT-HEX", no HTTP response: invalid export id, expected exp_ followed by 32 lowercase hex characters; no request sent');
  assert.equal(emulator.requests.length, 0);
});

test('401 from the API (wrong key) fails TicksupplyAuthError, non-retryable', async (t) => {
  const { emulator, run, lastRequestId } = await setup(t, { apiKey: 'key_wrong.other' });
  const id = emulator.createExport();
  const failure = await failureOf(run({ exportId: id }).result);
  assertFailure(failure, id, { type: FailureType.TicksupplyAuthError, nonRetryable: true, status: 401, code: 'unauthenticated', requestId: lastRequestId() });
  assert.ok(!failure.message.includes('key_wrong.other'));
});

test('403 fails TicksupplyAuthError, non-retryable', async (t) => {
  const { emulator, run, lastRequestId } = await setup(t);
  emulator.injectFault({ status: 403 });
  const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
  assertFailure(failure, UNKNOWN_ID, { type: FailureType.TicksupplyAuthError, nonRetryable: true, status: 403, code: 'permission_denied', requestId: lastRequestId() });
});

test('404 from the API (unknown export) fails ExportNotFound, non-retryable', async (t) => {
  const { run, lastRequestId } = await setup(t);
  const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
  assertFailure(failure, UNKNOWN_ID, { type: FailureType.ExportNotFound, nonRetryable: true, status: 404, code: 'not_found', requestId: lastRequestId() });
});

for (const { status, body, type } of [
  { status: 400, body: undefined, type: 'invalid_argument' },
  { status: 402, body: undefined, type: 'payment_required' },
  { status: 409, body: undefined, type: 'already_exists' },
  { status: 418, body: { message: 'no error envelope' }, type: 'http_418' },
]) {
  test(`${status} fails non-retryable with type ${type}`, async (t) => {
    const { run, emulator, lastRequestId } = await setup(t);
    emulator.injectFault({ status, ...(body === undefined ? {} : { body }) });
    const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
    const code = type.startsWith('http_') ? undefined : type;
    assertFailure(failure, UNKNOWN_ID, { type, nonRetryable: true, status, ...(code === undefined ? {} : { code }), requestId: lastRequestId() });
  });
}

for (const { status, code } of [
  { status: 408, code: 'request_timeout' },
  { status: 500, code: 'internal' },
  { status: 503, code: 'unavailable' },
]) {
  test(`${status} fails TicksupplyUnavailable, retryable, on Temporal's own backoff`, async (t) => {
    const { run, emulator, lastRequestId } = await setup(t);
    emulator.injectFault({ status });
    const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
    assertFailure(failure, UNKNOWN_ID, { type: RetryableFailureType.Unavailable, nonRetryable: false, status, code, requestId: lastRequestId() });
  });
}

test('503 with Retry-After fails retryable with that delay', async (t) => {
  const { run, emulator, lastRequestId } = await setup(t);
  emulator.injectFault({ status: 503, headers: { 'Retry-After': '5' } });
  const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
  assertFailure(failure, UNKNOWN_ID, {
    type: RetryableFailureType.Unavailable,
    nonRetryable: false,
    nextRetryDelay: 5000,
    status: 503,
    code: 'unavailable',
    requestId: lastRequestId(),
  });
});

for (const { name, fault, type, status, clientOptions } of [
  { name: 'a dropped connection', fault: { destroySocket: true }, type: RetryableFailureType.Connection, status: undefined, clientOptions: {} },
  { name: 'the client timeout', fault: { hang: true }, type: RetryableFailureType.Timeout, status: undefined, clientOptions: { timeoutMs: 200 } },
  {
    name: 'a proxy\'s HTML 502 page',
    fault: { status: 502, body: '<html>Bad Gateway</html>', headers: { 'Content-Type': 'text/html' } },
    type: RetryableFailureType.Unavailable,
    status: 502,
    clientOptions: {},
  },
  { name: 'an empty 200', fault: { status: 200, body: '' }, type: RetryableFailureType.Response, status: 200, clientOptions: {} },
  { name: 'JSON cut short', fault: { status: 200, body: '{"id":"exp_01' }, type: RetryableFailureType.Response, status: 200, clientOptions: {} },
] satisfies { name: string; fault: Fault; type: string; status: number | undefined; clientOptions: Partial<TicksupplyClientOptions> }[]) {
  test(`${name} fails ${type}, retryable`, async (t) => {
    const { run, emulator, lastRequestId } = await setup(t, clientOptions);
    emulator.injectFault(fault);
    const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
    assertFailure(failure, UNKNOWN_ID, {
      type,
      nonRetryable: false,
      ...(status === undefined ? {} : { status, requestId: lastRequestId() }),
    });
  });
}

test('a proxy\'s HTML 404 page fails ExportNotFound, non-retryable: the status decides, not the body', async (t) => {
  const { run, emulator, lastRequestId } = await setup(t);
  emulator.injectFault({ status: 404, body: '<html>Not Found</html>', headers: { 'Content-Type': 'text/html' } });
  const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
  assertFailure(failure, UNKNOWN_ID, { type: FailureType.ExportNotFound, nonRetryable: true, status: 404, requestId: lastRequestId() });
});

test('429 with Retry-After fails TicksupplyRateLimited, retryable, nextRetryDelay from the header', async (t) => {
  const { run, emulator, lastRequestId } = await setup(t);
  emulator.injectFault({ status: 429, headers: { 'Retry-After': '7' } });
  const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
  assertFailure(failure, UNKNOWN_ID, {
    type: RetryableFailureType.RateLimited,
    nonRetryable: false,
    nextRetryDelay: 7000,
    status: 429,
    code: 'rate_limited',
    requestId: lastRequestId(),
  });
});

test('429 with only a reset header takes nextRetryDelay from the reset', async (t) => {
  const { run, emulator, lastRequestId } = await setup(t);
  emulator.injectFault({ status: 429, headers: { 'X-RateLimit-Remaining-Minute': '0', 'X-RateLimit-Reset-Minute': '12' } });
  const failure = await failureOf(run({ exportId: UNKNOWN_ID }).result);
  assertFailure(failure, UNKNOWN_ID, {
    type: RetryableFailureType.RateLimited,
    nonRetryable: false,
    nextRetryDelay: 12_000,
    status: 429,
    code: 'rate_limited',
    requestId: lastRequestId(),
  });
});

test('a schema violation fails ExportContractViolation, non-retryable, naming the bad fields', async (t) => {
  const { run, emulator, lastRequestId } = await setup(t);
  // String int64s: the fault body goes through JSON.stringify, which refuses bigint.
  const id = emulator.createExport({ int64As: 'string' });
  emulator.injectFault({ status: 200, body: { ...emulator.job(id), status: 'paused', start_time: 'soon' } });
  const failure = await failureOf(run({ exportId: id }).result);
  assertFailure(failure, id, { type: FailureType.ExportContractViolation, nonRetryable: true, status: 200, requestId: lastRequestId() });
  assert.match(failure.message, /: response is not an export job: expected an int64 as a decimal integer at start_time; Invalid option: expected one of .* at status$/);
});

test('while the job is still in whileStatus: benign, retryable ExportNotReady, delay within the cadence\'s jitter', async (t) => {
  const { run, emulator, lastRequestId } = await setup(t);
  const id = emulator.createExport({ lifecycle: [{ status: 'running' }] });
  // Attempt 3 of 1 s × 2^n: base 4 s, ±10 %.
  const cadence = resolveCadence({ initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', jitter: 0.1 });
  const failure = await failureOf(run({ exportId: id, whileStatus: 'running', cadence }, { attempt: 3 }).result);
  assert.equal(failure.type, FailureType.ExportNotReady);
  assert.equal(failure.nonRetryable, false);
  assert.equal(failure.category, ApplicationFailureCategory.BENIGN);
  assert.equal(typeof failure.nextRetryDelay, 'number');
  const delay = failure.nextRetryDelay as number;
  assert.ok(delay >= 3600 && delay <= 4400, String(delay));
  assert.equal(failure.message, `export ${id} is still running (HTTP 200, request ${lastRequestId()})`);
  assert.deepEqual(failure.details, [{ status: 'running', job: { ...emulator.job(id), datastream_id: '42', start_time: '1704067200123456789', end_time: '1704070800987654321' } }]);
});

test('not ready without a cadence uses the default one (5 s ± 10 % on the first attempt)', async (t) => {
  const { run, emulator } = await setup(t);
  const id = emulator.createExport({ lifecycle: [{ status: 'queued' }] });
  const failure = await failureOf(run({ exportId: id, whileStatus: 'queued' }).result);
  assert.equal(failure.type, FailureType.ExportNotReady);
  const delay = failure.nextRetryDelay as number;
  assert.ok(delay >= 4500 && delay <= 5500, String(delay));
});

test('a status other than whileStatus is returned, with attempts, observedAt and request id', async (t) => {
  const { run, emulator, lastRequestId, logs } = await setup(t);
  const id = emulator.createExport({ lifecycle: [{ status: 'succeeded' }] });
  const before = Date.now();
  const result = await run({ exportId: id, whileStatus: 'running' }, { attempt: 4 }).result;
  const after = Date.now();
  assert.equal(result.job.id, id);
  assert.equal(result.job.status, 'succeeded');
  assert.equal(result.job.start_time, '1704067200123456789');
  assert.equal(result.attempts, 4);
  assert.equal(result.requestId, lastRequestId());
  const observed = Date.parse(result.observedAt);
  assert.equal(new Date(observed).toISOString(), result.observedAt);
  assert.ok(observed >= before && observed <= after);

  const entry = logs.find((e) => e.message === 'Export polled');
  assert.ok(entry, inspect(logs));
  assert.equal(entry.meta?.['requestId'], lastRequestId());
  assert.equal(entry.meta?.['exportId'], id);
  assert.ok(!inspect(logs, { depth: 10 }).includes(API_KEY));
});

test('whileStatus equal to a terminal status never means not ready', async (t) => {
  const { run, emulator } = await setup(t);
  const id = emulator.createExport({ lifecycle: [{ status: 'failed', reason: 'no data in range' }] });
  const result = await run({ exportId: id, whileStatus: 'failed' }).result;
  assert.equal(result.job.status, 'failed');
  assert.equal(result.job.reason, 'no data in range');
});

// The test timeout only bounds a broken run; the client's timeout is far longer, so only the
// cancellation can end the hanging request in time.
test('cancelling the activity aborts its HTTP request and completes as cancelled', { timeout: 20_000 }, async (t) => {
  const { run, emulator } = await setup(t, { timeoutMs: 600_000 });
  emulator.injectFault({ hang: true });
  const { env, result } = run({ exportId: UNKNOWN_ID });
  while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  env.cancel();
  const error = await result.then(
    (value) => assert.fail(`expected a cancellation, got ${inspect(value)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof CancelledFailure, inspect(error));
  assert.equal(error.message, 'CANCELLED');
  assert.ok(error.cause instanceof TicksupplyAbortError, inspect(error.cause));
  assert.equal(error.cause.exportId, UNKNOWN_ID);
  assert.equal(emulator.requests.length, 1);
  assert.equal(emulator.requests[0]?.status, 0);
});
