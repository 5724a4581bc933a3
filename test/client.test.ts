import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator';
import {
  InvalidExportIdError,
  TicksupplyAbortError,
  TicksupplyApiError,
  TicksupplyClient,
  TicksupplyConnectionError,
  TicksupplyContractError,
  TicksupplyResponseError,
  TicksupplyTimeoutError,
  type TicksupplyClientOptions,
  type TicksupplyError,
} from '../src/ticksupply';

/** Distinctive, so that a leak anywhere is found by a plain substring search. */
const API_KEY = 'key_9f8e7d.s3cr3t-value';
const UNKNOWN_ID = 'exp_0194a1b2c3d4e5f6a7b8c9d0e1f2a3b4';

async function setup(t: TestContext, emulatorOptions: EmulatorOptions = {}, clientOptions: Partial<TicksupplyClientOptions> = {}) {
  const emulator = await startEmulator({ apiKey: API_KEY, ...emulatorOptions });
  t.after(() => emulator.close());
  const client = new TicksupplyClient({ apiKey: API_KEY, baseUrl: emulator.url, ...clientOptions });
  return { emulator, client };
}

/** A finished job, so no scripted transition happens between requests. */
function createSucceeded(emulator: Emulator, script: Parameters<Emulator['createExport']>[0] = {}): string {
  return emulator.createExport({ lifecycle: [{ status: 'succeeded' }], ...script });
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    (value) => assert.fail(`expected ${type.name}, got ${inspect(value)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${inspect(error)}`);
  return error;
}

/** The message rule: one line naming export, status (or its absence) and request id; never the key. */
function assertMessage(error: TicksupplyError, parts: { exportId: string; status?: number; requestId?: string }) {
  assert.doesNotMatch(error.message, /[\r\n]/);
  const start = `export ${parts.exportId}, ${parts.status === undefined ? 'no HTTP response' : `HTTP ${parts.status}`}`;
  assert.ok(error.message.startsWith(parts.requestId === undefined ? `${start}: ` : `${start}, request ${parts.requestId}: `), error.message);
  assert.equal(error.exportId, parts.exportId);
  assert.equal(error.status, parts.status);
  assert.equal(error.requestId, parts.requestId);
  assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(API_KEY), 'the API key leaked into the error');
}

/** The emulator's record of the only request so far. */
function onlyRequest(emulator: Emulator) {
  assert.equal(emulator.requests.length, 1);
  const [request] = emulator.requests;
  assert.ok(request);
  return request;
}

async function rawBody(emulator: Emulator, id: string): Promise<string> {
  const response = await fetch(`${emulator.url}/v1/exports/${id}`, { headers: { 'X-Api-Key': API_KEY } });
  return response.text();
}

/** A valid job body for faults that serve a hand-written 200. */
function jobBody(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    datastream_id: 42,
    start_time: '1704067200123456789',
    end_time: '1704070800987654321',
    format: 'csv',
    format_options: {},
    status: 'running',
    created_at: '2024-01-01T00:00:00Z',
    started_at: '2024-01-01T00:00:01Z',
    finished_at: null,
    ...overrides,
  };
}

test('int64 fields sent as JSON numbers come back exactly, as decimal strings', async (t) => {
  const { emulator, client } = await setup(t);
  const id = createSucceeded(emulator, { int64As: 'number' });
  // Precondition: the wire really carries digits beyond 2^53 that JSON.parse would round.
  assert.match(await rawBody(emulator, id), /"start_time":1704067200123456789[,}]/);
  assert.notEqual(String(JSON.parse('1704067200123456789')), '1704067200123456789');

  const { job } = await client.getExport(id);
  assert.equal(job.start_time, '1704067200123456789');
  assert.equal(job.end_time, '1704070800987654321');
  assert.equal(job.datastream_id, '42');
});

test('int64 fields sent as decimal strings come back unchanged', async (t) => {
  const { emulator, client } = await setup(t);
  const id = createSucceeded(emulator, { int64As: 'string', startTime: '1704067200000000001', datastreamId: 7 });
  assert.match(await rawBody(emulator, id), /"start_time":"1704067200000000001"/);

  const { job } = await client.getExport(id);
  assert.equal(job.start_time, '1704067200000000001');
  assert.equal(job.datastream_id, '7');
});

test('a successful answer carries the request id and the rate-limit headers', async (t) => {
  const { emulator, client } = await setup(t);
  const id = createSucceeded(emulator);
  const result = await client.getExport(id);
  assert.equal(result.status, 200);
  assert.equal(result.job.id, id);
  assert.equal(result.job.status, 'succeeded');
  assert.equal(result.requestId, onlyRequest(emulator).requestId);
  assert.equal(result.rateLimit.limitMinute, 200);
  assert.equal(result.rateLimit.limitHour, 10_000);
  assert.equal(result.rateLimit.remainingMinute, 199);
  assert.equal(result.rateLimit.remainingHour, 9_999);
  assert.equal(result.rateLimit.resetMinute, undefined);
});

test('parquet format_options pass through, integers beyond 2^53 as decimal strings', async (t) => {
  const { emulator, client } = await setup(t);
  const id = UNKNOWN_ID;
  const body = JSON.stringify(jobBody(id, { format: 'parquet', format_options: { compression: 'zstd', row_group_size: 'BIG' } }));
  emulator.injectFault({ status: 200, body: body.replace('"BIG"', '9007199254740993') });
  const { job } = await client.getExport(id);
  assert.deepEqual(job.format_options, { compression: 'zstd', row_group_size: '9007199254740993' });
});

test('unknown extra fields are tolerated and dropped', async (t) => {
  const { emulator, client } = await setup(t);
  const id = UNKNOWN_ID;
  emulator.injectFault({ status: 200, body: jobBody(id, { progress: 0.5, artifacts: [{ id: 'art_1' }], eta: null }) });
  const { job } = await client.getExport(id);
  assert.deepEqual(job, {
    id,
    datastream_id: '42',
    start_time: '1704067200123456789',
    end_time: '1704070800987654321',
    format: 'csv',
    format_options: {},
    status: 'running',
    created_at: '2024-01-01T00:00:00Z',
    started_at: '2024-01-01T00:00:01Z',
    finished_at: null,
  });
});

test('reason, started_at and finished_at may be absent', async (t) => {
  const { emulator, client } = await setup(t);
  const body = jobBody(UNKNOWN_ID, { status: 'queued' });
  delete body['started_at'];
  delete body['finished_at'];
  emulator.injectFault({ status: 200, body });
  const { job } = await client.getExport(UNKNOWN_ID);
  assert.equal(job.status, 'queued');
  assert.ok(!('reason' in job) && !('started_at' in job) && !('finished_at' in job), inspect(job));
});

test('reason, started_at and finished_at may be null', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 200, body: jobBody(UNKNOWN_ID, { status: 'queued', reason: null, started_at: null }) });
  const { job } = await client.getExport(UNKNOWN_ID);
  assert.equal(job.reason, null);
  assert.equal(job.started_at, null);
  assert.equal(job.finished_at, null);
});

test('an unknown status is a contract violation, never a success', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 200, body: jobBody(UNKNOWN_ID, { status: 'archived' }) });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyContractError);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 200, requestId: onlyRequest(emulator).requestId });
  assert.match(error.message, /response is not an export job: Invalid option: expected one of .* at status$/);
  assert.deepEqual(
    error.issues.map((issue) => issue.path),
    [['status']],
  );
});

test('a contract violation names every bad field, in a message of at most ~300 characters of reason', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 200, body: jobBody(UNKNOWN_ID, { start_time: 1.5, created_at: 7, id: 'exp_X' }) });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyContractError);
  assert.doesNotMatch(error.message, /[\r\n]/);
  for (const field of ['id', 'start_time', 'created_at']) assert.match(error.message, new RegExp(` at ${field}(;|$)`));
  assert.ok(error.message.length <= 300 + `export ${UNKNOWN_ID}, HTTP 200, request req_0123456789abcdef: `.length);
});

test('a job for another export id is a contract violation', async (t) => {
  const { emulator, client } = await setup(t);
  const other = 'exp_ffffffffffffffffffffffffffffffff';
  emulator.injectFault({ status: 200, body: jobBody(other) });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyContractError);
  assert.match(error.message, /: response describes another export, exp_f{32}$/);
});

test('an API error keeps code, message, details, request id and raw body', async (t) => {
  const { emulator, client } = await setup(t);
  const body = { error: { code: 'already_exists', message: 'Conflict\nacross lines', details: { provided: 142 } } };
  emulator.injectFault({ status: 409, body });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  const { requestId } = onlyRequest(emulator);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 409, requestId });
  assert.equal(error.message, `export ${UNKNOWN_ID}, HTTP 409, request ${requestId}: already_exists: Conflict across lines`);
  assert.equal(error.code, 'already_exists');
  assert.equal(error.apiMessage, 'Conflict\nacross lines');
  assert.deepEqual(error.details, { provided: 142 });
  assert.equal(error.rawBody, JSON.stringify(body));
  assert.equal(error.retryAfterMs, undefined);
});

test('the API\'s own 404 is an API error with code not_found', async (t) => {
  const { emulator, client } = await setup(t);
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 404, requestId: onlyRequest(emulator).requestId });
  assert.equal(error.code, 'not_found');
});

test('a JSON error body without the error envelope leaves the code undefined', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 418, body: { message: 'short and stout' }, omitRequestId: true });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 418 });
  assert.equal(error.code, undefined);
  assert.match(error.message, /: error body without an API error code: \{"message":"short and stout"\}$/);
});

test('Retry-After in seconds becomes retryAfterMs', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 429, headers: { 'Retry-After': '7' } });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assert.equal(error.code, 'rate_limited');
  assert.equal(error.retryAfterMs, 7000);
  assert.match(error.message, /\(retry after 7000 ms\)$/);
});

test('the emulator\'s own rate limiter: 429 with Retry-After and an epoch reset header', async (t) => {
  const { emulator, client } = await setup(t, { rateLimit: { perMinute: 1, perHour: 100 } });
  const id = createSucceeded(emulator);
  await client.getExport(id);
  const error = await rejection(client.getExport(id), TicksupplyApiError);
  assert.equal(error.status, 429);
  assert.equal(error.rateLimit.remainingMinute, 0);
  assert.ok(error.rateLimit.resetMinute !== undefined && error.rateLimit.resetMinute > 1e9);
  // One token a minute: the next one is about 60 s away, and Retry-After says so in whole seconds.
  assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 50_000 && error.retryAfterMs <= 60_000, String(error.retryAfterMs));
});

test('without Retry-After, a 429 waits for the epoch reset of the exhausted bucket', async (t) => {
  const { emulator, client } = await setup(t);
  const resetAt = Math.ceil(Date.now() / 1000) + 30;
  emulator.injectFault({
    status: 429,
    headers: { 'X-RateLimit-Remaining-Minute': '0', 'X-RateLimit-Reset-Minute': String(resetAt), 'X-RateLimit-Remaining-Hour': '500' },
  });
  const before = Date.now();
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  const after = Date.now();
  assert.ok(error.retryAfterMs !== undefined);
  assert.ok(error.retryAfterMs >= resetAt * 1000 - after && error.retryAfterMs <= resetAt * 1000 - before, String(error.retryAfterMs));
});

test('without Retry-After, a 429 takes a small reset value as seconds, from the exhausted bucket only', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({
    status: 429,
    headers: {
      'X-RateLimit-Remaining-Minute': '0',
      'X-RateLimit-Reset-Minute': '45',
      'X-RateLimit-Remaining-Hour': '9000',
      'X-RateLimit-Reset-Hour': '2345',
    },
  });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assert.equal(error.retryAfterMs, 45_000);
  assert.deepEqual(error.rateLimit, { remainingMinute: 0, resetMinute: 45, remainingHour: 9000, resetHour: 2345 });
});

test('reset headers do not set a delay on errors other than 429', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 503, headers: { 'X-RateLimit-Reset-Minute': '45' } });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assert.equal(error.code, 'unavailable');
  assert.equal(error.retryAfterMs, undefined);
});

test('a proxy\'s HTML error page is a response error, with status, content type and excerpt', async (t) => {
  const { emulator, client } = await setup(t);
  const html = '<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>';
  emulator.injectFault({ status: 502, body: html, headers: { 'Content-Type': 'text/html' }, omitRequestId: true });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyResponseError);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 502 });
  assert.match(error.message, /: response is not valid JSON \(content-type text\/html, body starts "<html><head><title>502 Bad Gateway/);
  assert.equal(error.contentType, 'text/html');
  assert.equal(error.rawBody, html);
});

test('a 200 whose JSON is cut short is a response error', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 200, body: JSON.stringify(jobBody(UNKNOWN_ID)).slice(0, 60) });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyResponseError);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 200, requestId: onlyRequest(emulator).requestId });
  assert.match(error.message, /content-type application\/json/);
});

test('an empty 200 body is a response error', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 200, body: '' });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyResponseError);
  assert.match(error.message, /\(content-type application\/json, empty body\)/);
});

test('a hanging server trips the client timeout', async (t) => {
  const { emulator, client } = await setup(t, {}, { timeoutMs: 200 });
  emulator.injectFault({ hang: true });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyTimeoutError);
  assertMessage(error, { exportId: UNKNOWN_ID });
  assert.equal(error.timeoutMs, 200);
  assert.match(error.message, /: no complete response within 200 ms \(client timeout\)$/);
  assert.equal(onlyRequest(emulator).status, 0);
});

// The test timeout only bounds a broken run; the client's own timeout is far longer.
test('a caller abort is an AbortError, not a timeout', { timeout: 20_000 }, async (t) => {
  const { emulator, client } = await setup(t, {}, { timeoutMs: 600_000 });
  emulator.injectFault({ hang: true });
  const controller = new AbortController();
  const pending = client.getExport(UNKNOWN_ID, { signal: controller.signal });
  while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const reason = new Error('shutting down');
  controller.abort(reason);
  const error = await rejection(pending, TicksupplyAbortError);
  assert.equal(error.name, 'AbortError');
  assert.ok(!(error instanceof TicksupplyTimeoutError));
  assert.equal(error.cause, reason);
  assertMessage(error, { exportId: UNKNOWN_ID });
});

test('an already aborted signal sends no request', async (t) => {
  const { emulator, client } = await setup(t);
  const error = await rejection(client.getExport(UNKNOWN_ID, { signal: AbortSignal.abort() }), TicksupplyAbortError);
  assert.equal(error.name, 'AbortError');
  assert.equal(emulator.requests.length, 0);
});

test('a dropped connection is a connection error', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ destroySocket: true });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyConnectionError);
  assertMessage(error, { exportId: UNKNOWN_ID });
  assert.match(error.message, /: connection failed: fetch failed: /);
});

test('a refused connection is a connection error', async (t) => {
  const { emulator, client } = await setup(t);
  await emulator.close();
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyConnectionError);
  assert.match(error.message, /: connection failed: fetch failed: ECONNREFUSED connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
});

test('an id that is not exp_ + 32 lowercase hex is refused before any request', async (t) => {
  const { emulator, client } = await setup(t);
  for (const id of ['exp_0194A1B2C3D4E5F6A7B8C9D0E1F2A3B4', 'sub_0194a1b2c3d4e5f6a7b8c9d0e1f2a3b4', `${UNKNOWN_ID}\n`, '../exports']) {
    const error = await rejection(client.getExport(id), InvalidExportIdError);
    assert.equal(error.exportId, id);
    assert.equal(error.message, `export ${JSON.stringify(id)}, no HTTP response: invalid export id, expected exp_ followed by 32 lowercase hex characters; no request sent`);
  }
  assert.equal(emulator.requests.length, 0);
});

test('the API key travels in X-Api-Key and nowhere else', async (t) => {
  const { emulator, client } = await setup(t);
  const id = createSucceeded(emulator);
  await client.getExport(id);
  assert.equal(onlyRequest(emulator).apiKeyOk, true);
  assert.ok(!inspect(client, { depth: 10, showHidden: true }).includes(API_KEY));
});

test('a wrong API key gets the API\'s 401, and the message does not carry the key', async (t) => {
  const { emulator } = await setup(t);
  const wrongKey = 'key_wrong.another-secret';
  const client = new TicksupplyClient({ apiKey: wrongKey, baseUrl: emulator.url });
  const error = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assertMessage(error, { exportId: UNKNOWN_ID, status: 401, requestId: onlyRequest(emulator).requestId });
  assert.equal(error.code, 'unauthenticated');
  assert.equal(onlyRequest(emulator).apiKeyOk, false);
  assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(wrongKey));
});

test('a key echoed back by the server or a proxy is redacted from every error field', async (t) => {
  const { emulator, client } = await setup(t);
  emulator.injectFault({ status: 401, body: { error: { code: 'unauthenticated', message: `Invalid key ${API_KEY}`, details: { key: API_KEY } } } });
  const apiError = await rejection(client.getExport(UNKNOWN_ID), TicksupplyApiError);
  assert.equal(apiError.apiMessage, 'Invalid key [REDACTED]');
  assert.deepEqual(apiError.details, { key: '[REDACTED]' });
  assertMessage(apiError, { exportId: UNKNOWN_ID, status: 401, requestId: emulator.requests.at(-1)?.requestId ?? '' });

  emulator.injectFault({ status: 502, body: `<pre>X-Api-Key: ${API_KEY}</pre>` });
  const responseError = await rejection(client.getExport(UNKNOWN_ID), TicksupplyResponseError);
  assert.equal(responseError.rawBody, '<pre>X-Api-Key: [REDACTED]</pre>');
  assertMessage(responseError, { exportId: UNKNOWN_ID, status: 502, requestId: emulator.requests.at(-1)?.requestId ?? '' });
});
