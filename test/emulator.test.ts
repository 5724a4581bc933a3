import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, get as httpGet } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator } from '../src/emulator';
import type { Emulator, EmulatorOptions } from '../src/emulator';
import { BudgetAudit } from '../src/emulator/rate-limit';

const REQUEST_ID = /^req_[0-9a-f]{16}$/;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function call(emulator: Emulator, method: string, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${emulator.url}${path}`, {
    ...init,
    method,
    headers: { 'X-Api-Key': emulator.apiKey, ...init.headers },
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The answer's JSON body; int64 values are small or compared as raw text elsewhere. */
function json(answer: Answer): Record<string, unknown> {
  return JSON.parse(answer.text) as Record<string, unknown>;
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Resolves once the emulator has received `count` requests in all. */
async function received(emulator: Emulator, count: number): Promise<void> {
  while (emulator.requests.length < count) await sleep(5);
}

/** An emulator per suite, closed after it. */
function useEmulator(options: EmulatorOptions = {}): () => Emulator {
  let emulator: Emulator | undefined;
  before(async () => {
    emulator = await startEmulator(options);
  });
  after(() => emulator?.close());
  return () => {
    assert.ok(emulator, 'emulator not started');
    return emulator;
  };
}

describe('emulator basics', () => {
  const emu = useEmulator();

  test('401 with the documented body, a request id and JSON content type for a missing or wrong key', async () => {
    for (const headers of [{}, { 'X-Api-Key': 'wrong' }]) {
      const response = await fetch(`${emu().url}/v1/exports/exp_${'0'.repeat(32)}`, { headers });
      assert.equal(response.status, 401);
      assert.equal(await response.text(), errorBody('unauthenticated', 'Invalid or missing API key'));
      assert.match(response.headers.get('x-request-id') ?? '', REQUEST_ID);
      assert.equal(response.headers.get('content-type'), 'application/json');
    }
    const last = emu().requests.at(-1);
    assert.equal(last?.apiKeyOk, false);
    assert.equal(last?.status, 401);
  });

  test('400 for a malformed id, 404 for an unknown one and for an unknown route', async () => {
    const malformed = await call(emu(), 'GET', '/v1/exports/exp_ABC');
    assert.equal(malformed.status, 400);
    assert.equal(
      malformed.text,
      errorBody('invalid_argument', 'Invalid export id exp_ABC: expected exp_ followed by 32 hex characters'),
    );

    const unknownId = `exp_${'a'.repeat(32)}`;
    const unknown = await call(emu(), 'GET', `/v1/exports/${unknownId}`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.text, errorBody('not_found', `Export ${unknownId} not found`));
    assert.match(unknown.headers.get('x-request-id') ?? '', REQUEST_ID);

    const noRoute = await call(emu(), 'GET', '/v1/nothing');
    assert.equal(noRoute.text, errorBody('not_found', 'No route for GET /v1/nothing'));
  });

  test('int64 fields are raw JSON digits by default and decimal strings on request', async () => {
    const asNumber = await call(emu(), 'GET', `/v1/exports/${emu().createExport()}`);
    assert.ok(asNumber.text.includes('"datastream_id":42,'), asNumber.text);
    assert.ok(asNumber.text.includes('"start_time":1704067200123456789,'), asNumber.text);
    assert.ok(asNumber.text.includes('"end_time":1704070800987654321,'), asNumber.text);

    const asString = await call(emu(), 'GET', `/v1/exports/${emu().createExport({ int64As: 'string' })}`);
    assert.ok(asString.text.includes('"datastream_id":"42",'), asString.text);
    assert.ok(asString.text.includes('"start_time":"1704067200123456789",'), asString.text);
    assert.ok(asString.text.includes('"end_time":"1704070800987654321",'), asString.text);
  });

  test('the job object has the documented fields in order, with format_options for parquet', async () => {
    const id = emu().createExport({ format: 'parquet', datastreamId: 7, int64As: 'string' });
    const answer = await call(emu(), 'GET', `/v1/exports/${id}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/json');
    const job = json(answer);
    assert.deepEqual(Object.keys(job), [
      'id', 'datastream_id', 'start_time', 'end_time', 'format', 'format_options',
      'status', 'created_at', 'started_at', 'finished_at',
    ]);
    assert.match(id, /^exp_[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    assert.deepEqual(job, {
      id,
      datastream_id: '7',
      start_time: '1704067200123456789',
      end_time: '1704070800987654321',
      format: 'parquet',
      format_options: { compression: 'zstd', compression_level: 3, row_group_size: 1_048_576 },
      status: 'queued',
      created_at: job['created_at'],
      started_at: null,
      finished_at: null,
    });
    assert.match(String(job['created_at']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  test('keep-alive: a second request reuses the socket of the first', async () => {
    const agent = new Agent({ keepAlive: true });
    const reused: boolean[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const response = await new Promise<IncomingMessage>((resolve, reject) => {
          const request = httpGet(`${emu().url}/v1/exports/exp_${'b'.repeat(32)}`, { agent }, resolve);
          request.on('error', reject);
          request.on('socket', () => reused.push(request.reusedSocket));
        });
        response.resume();
        await once(response, 'end');
      }
    } finally {
      agent.destroy();
    }
    assert.deepEqual(reused, [false, true]);
  });
});

describe('emulator lifecycle', () => {
  const timeScale = 20;
  const emu = useEmulator({ timeScale });

  test('by time: the default lifecycle runs after 1 s and succeeds after 3 s of emulator time', async () => {
    const createdAfter = Date.now();
    const id = emu().createExport();
    assert.equal((emu().job(id) as { status: string }).status, 'queued');
    let job: Record<string, unknown> = {};
    const seen: unknown[] = [];
    while (job['status'] !== 'succeeded') {
      await sleep(5);
      job = json(await call(emu(), 'GET', `/v1/exports/${id}`));
      if (seen.at(-1) !== job['status']) seen.push(job['status']);
    }
    const seenAt = Date.now();
    assert.ok(seen.every((status) => ['queued', 'running', 'succeeded'].includes(String(status))), String(seen));
    const created = Date.parse(String(job['created_at']));
    assert.equal(Date.parse(String(job['started_at'])) - created, 1000);
    assert.equal(Date.parse(String(job['finished_at'])) - created, 3000);
    assert.ok(!('reason' in job));
    const terminalAt = emu().terminalAt(id) ?? NaN;
    // 3000 emulator ms are 150 real ms at timeScale 20; 1 ms of slack for the ms-resolution clock.
    assert.ok(terminalAt >= createdAfter + 3000 / timeScale - 1 && terminalAt <= seenAt, String(terminalAt));
  });

  test('by polls: a step applies once that many GETs have been answered', async () => {
    const id = emu().createExport({
      lifecycle: [
        { status: 'running', afterPolls: 1 },
        { status: 'failed', afterPolls: 3, reason: 'no data in range' },
      ],
    });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(json(await call(emu(), 'GET', `/v1/exports/${id}`)));
    assert.deepEqual(
      jobs.map((job) => job['status']),
      ['queued', 'running', 'running', 'failed', 'failed'],
    );
    assert.equal(jobs[3]?.['reason'], 'no data in range');
    assert.ok(!('reason' in (jobs[2] ?? {})));
    assert.equal(typeof jobs[3]?.['finished_at'], 'string');
    assert.equal(emu().requests.filter((r) => r.exportId === id).length, 5);
  });

  test('setStatus is a manual transition that drops the rest of the script', async () => {
    const id = emu().createExport({ lifecycle: [{ status: 'succeeded', afterPolls: 1 }] });
    emu().setStatus(id, 'failed', 'disk full');
    await call(emu(), 'GET', `/v1/exports/${id}`);
    const job = json(await call(emu(), 'GET', `/v1/exports/${id}`));
    assert.equal(job['status'], 'failed');
    assert.equal(job['reason'], 'disk full');
    assert.equal(job['started_at'], job['finished_at']);
  });
});

describe('emulator faults', () => {
  const emu = useEmulator();

  test('status, verbatim body and headers for one GET of the named export, then normal again', async () => {
    const faulty = emu().createExport();
    const other = emu().createExport();
    emu().injectFault({
      exportId: faulty,
      status: 503,
      body: '<html>upstream down</html>',
      headers: { 'Retry-After': '7', 'Content-Type': 'text/html' },
    });
    assert.equal((await call(emu(), 'GET', `/v1/exports/${other}`)).status, 200);
    const failed = await call(emu(), 'GET', `/v1/exports/${faulty}`);
    assert.equal(failed.status, 503);
    assert.equal(failed.text, '<html>upstream down</html>');
    assert.equal(failed.headers.get('retry-after'), '7');
    assert.equal(failed.headers.get('content-type'), 'text/html');
    assert.match(failed.headers.get('x-request-id') ?? '', REQUEST_ID);
    assert.equal((await call(emu(), 'GET', `/v1/exports/${faulty}`)).status, 200);
  });

  test('a status alone gets the documented error body; times counts matching requests; omitRequestId', async () => {
    const id = emu().createExport();
    emu().injectFault({ status: 500, times: 2, omitRequestId: true });
    for (let i = 0; i < 2; i++) {
      const failed = await call(emu(), 'GET', `/v1/exports/${id}`);
      assert.equal(failed.status, 500);
      assert.equal(failed.text, errorBody('internal', 'Injected fault: HTTP 500'));
      assert.equal(failed.headers.get('x-request-id'), null);
    }
    emu().injectFault({ status: 200, body: { id, status: 'mystery' } });
    assert.equal((await call(emu(), 'GET', `/v1/exports/${id}`)).text, JSON.stringify({ id, status: 'mystery' }));
    const normal = await call(emu(), 'GET', `/v1/exports/${id}`);
    assert.equal(normal.status, 200);
    assert.match(normal.headers.get('x-request-id') ?? '', REQUEST_ID);
  });

  test('hang: no answer until the client aborts; the next request is served', async () => {
    const id = emu().createExport();
    emu().injectFault({ exportId: id, hang: true });
    const before = emu().requests.length;
    const controller = new AbortController();
    const hanging = call(emu(), 'GET', `/v1/exports/${id}`, { signal: controller.signal });
    await received(emu(), before + 1);
    controller.abort();
    await assert.rejects(hanging, { name: 'AbortError' });
    assert.equal(emu().requests.at(-1)?.status, 0);
    assert.equal((await call(emu(), 'GET', `/v1/exports/${id}`)).status, 200);
  });

  test('destroySocket: the connection drops without a response', async () => {
    const id = emu().createExport();
    emu().injectFault({ exportId: id, destroySocket: true });
    await assert.rejects(call(emu(), 'GET', `/v1/exports/${id}`), { name: 'TypeError', message: 'fetch failed' });
    assert.equal((await call(emu(), 'GET', `/v1/exports/${id}`)).status, 200);
  });

  test('delay: a slow but normal answer, overtaken by a later request', async () => {
    const id = emu().createExport();
    emu().injectFault({ exportId: id, delayMs: 1000 });
    const before = emu().requests.length;
    const slow = call(emu(), 'GET', `/v1/exports/${id}`);
    await received(emu(), before + 1);
    const fast = call(emu(), 'GET', `/v1/exports/${id}`);
    assert.equal(await Promise.race([slow.then(() => 'slow'), fast.then(() => 'fast')]), 'fast');
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(json(answer)['id'], id);
  });

  test('close() ends hanging requests', async () => {
    const emulator = await startEmulator();
    emulator.injectFault({ hang: true });
    const pending = fetch(`${emulator.url}/v1/exports/exp_${'c'.repeat(32)}`);
    await received(emulator, 1);
    await emulator.close();
    await assert.rejects(pending, { name: 'TypeError' });
  });
});

describe('emulator rate limits', () => {
  test('the minute bucket: 429 with Retry-After and reset headers once empty; nothing served over budget', async () => {
    const emulator = await startEmulator({ rateLimit: { perMinute: 3, perHour: 100 } });
    try {
      const id = emulator.createExport();
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await call(emulator, 'GET', `/v1/exports/${id}`));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 429]);
      assert.deepEqual(
        answers.map((a) => a.headers.get('x-ratelimit-remaining-minute')),
        ['2', '1', '0', '0'],
      );
      assert.deepEqual(answers.map((a) => a.headers.get('x-ratelimit-remaining-hour')), ['99', '98', '97', '97']);
      assert.equal(answers[0]?.headers.get('x-ratelimit-reset-minute'), null);
      const limited = answers[3];
      assert.ok(limited);
      // One token refills in 60 s / 3 = 20 s.
      assert.equal(limited.text, errorBody('rate_limited', 'Rate limit exceeded. Retry after 20 seconds.'));
      assert.equal(limited.headers.get('retry-after'), '20');
      assert.equal(limited.headers.get('x-ratelimit-limit-minute'), '3');
      assert.equal(limited.headers.get('x-ratelimit-limit-hour'), '100');
      assert.match(limited.headers.get('x-request-id') ?? '', REQUEST_ID);
      const reset = Number(limited.headers.get('x-ratelimit-reset-minute'));
      assert.ok(Math.abs(reset - (Date.now() / 1000 + 20)) <= 1, String(reset));
      assert.equal(limited.headers.get('x-ratelimit-reset-hour'), null);

      const unauthenticated = await fetch(`${emulator.url}/v1/exports/${id}`);
      assert.equal(unauthenticated.status, 401);
      assert.deepEqual(emulator.stats(), {
        total: 5,
        rateLimited: 1,
        overBudget: 0,
        byStatus: { 200: 3, 401: 1, 429: 1 },
      });
    } finally {
      await emulator.close();
    }
  });

  test('the hour bucket limits on its own', async () => {
    const emulator = await startEmulator({ rateLimit: { perMinute: 100, perHour: 2 } });
    try {
      const id = emulator.createExport();
      const statuses = [];
      let last: Answer | undefined;
      for (let i = 0; i < 3; i++) {
        last = await call(emulator, 'GET', `/v1/exports/${id}`);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      // One token refills in 3600 s / 2.
      assert.equal(last?.headers.get('retry-after'), '1800');
      assert.equal(last?.headers.get('x-ratelimit-reset-minute'), null);
      assert.ok(Number(last?.headers.get('x-ratelimit-reset-hour')) > Date.now() / 1000 + 1790);
      assert.equal(emulator.stats().overBudget, 0);
    } finally {
      await emulator.close();
    }
  });

  test('the over-budget audit counts admissions beyond C + r·t', () => {
    const audit = new BudgetAudit({ perMinute: 2, perHour: 100 }, 0);
    audit.admit(0);
    audit.admit(0);
    assert.equal(audit.violations, 0);
    audit.admit(0);
    assert.equal(audit.violations, 1);
    audit.admit(60_000);
    assert.equal(audit.violations, 1);
  });
});

describe('emulator create, cancel, download', () => {
  const emu = useEmulator();
  const body = JSON.stringify({
    datastream_id: 9,
    start_time: '2024-01-01T00:00:00.000000001Z',
    end_time: '1704070800000000000',
  });
  const post = (path: string, payload: string, key?: string): Promise<Answer> =>
    call(emu(), 'POST', path, {
      body: payload,
      headers: { 'Content-Type': 'application/json', ...(key === undefined ? {} : { 'Idempotency-Key': key }) },
    });

  test('create answers 202 with a queued job; ISO 8601 times become ns', async () => {
    const created = await post('/v1/exports', body);
    assert.equal(created.status, 202);
    const job = json(created);
    assert.equal(job['status'], 'queued');
    assert.ok(created.text.includes('"start_time":1704067200000000001,'), created.text);
    assert.deepEqual(job['format_options'], {});
    assert.equal(emu().job(String(job['id'])) !== undefined, true);
  });

  test('Idempotency-Key: same key and body replays, a different body is 409, a non-UUID is 400', async () => {
    const key = '3f1c2a9e-8a1b-4c2d-9e3f-0a1b2c3d4e5f';
    const first = await post('/v1/exports', body, key);
    const replay = await post('/v1/exports', body, key);
    assert.equal(first.status, 202);
    assert.equal(replay.status, 202);
    assert.equal(replay.text, first.text);
    const conflict = await post('/v1/exports', body.replace('9', '10'), key);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.text, errorBody('already_exists', 'Idempotency-Key was already used with a different request'));
    const bad = await post('/v1/exports', body, 'not-a-uuid');
    assert.equal(bad.text, errorBody('invalid_argument', 'Idempotency-Key must be a UUID'));
    for (const form of ['{8d2c1c6e-1d4b-4f7e-a1b2-c3d4e5f6a7b8}', 'urn:uuid:8d2c1c6e-1d4b-4f7e-a1b2-c3d4e5f6a7b9', '8d2c1c6e1d4b4f7ea1b2c3d4e5f6a7c0']) {
      assert.equal((await post('/v1/exports', body, form)).status, 202, form);
    }
    const withoutKey = [await post('/v1/exports', body), await post('/v1/exports', body)].map((a) => json(a)['id']);
    assert.notEqual(withoutKey[0], withoutKey[1]);
  });

  test('create rejects invalid bodies with 400 invalid_argument', async () => {
    const cases: [string, string][] = [
      ['{', 'Request body is not valid JSON'],
      ['{"start_time":1,"end_time":2}', 'datastream_id must be a positive integer'],
      ['{"datastream_id":1,"start_time":"yesterday","end_time":2}', 'start_time and end_time must be ns since epoch (integer or decimal string) or ISO 8601'],
      ['{"datastream_id":1,"start_time":5,"end_time":5}', 'start_time must be before end_time'],
      ['{"datastream_id":1,"start_time":1,"end_time":2,"format":"xlsx"}', 'format must be "csv" or "parquet"'],
      ['{"datastream_id":1,"start_time":1,"end_time":2,"format_options":{"compression":"zstd"}}', 'format_options for csv has unknown keys: compression'],
    ];
    for (const [payload, message] of cases) {
      const answer = await post('/v1/exports', payload);
      assert.equal(answer.status, 400, payload);
      assert.equal(answer.text, errorBody('invalid_argument', message));
    }
  });

  test('cancel: a non-terminal export turns canceled with 204; a terminal one is 409', async () => {
    const id = emu().createExport();
    const canceled = await post(`/v1/exports/${id}/cancel`, '');
    assert.equal(canceled.status, 204);
    assert.equal(canceled.text, '');
    assert.match(canceled.headers.get('x-request-id') ?? '', REQUEST_ID);
    const job = json(await call(emu(), 'GET', `/v1/exports/${id}`));
    assert.equal(job['status'], 'canceled');
    assert.equal(job['started_at'], null);
    assert.equal(typeof job['finished_at'], 'string');
    assert.equal(typeof emu().terminalAt(id), 'number');
    const again = await post(`/v1/exports/${id}/cancel`, '');
    assert.equal(again.status, 409);
    assert.equal(again.text, errorBody('failed_precondition', `Export ${id} is already canceled`));
  });

  test('download: 409 before success, then one artifact per hour of the range', async () => {
    const id = emu().createExport();
    emu().setStatus(id, 'running');
    const early = await call(emu(), 'GET', `/v1/exports/${id}/download`);
    assert.equal(early.status, 409);
    assert.equal(early.text, errorBody('failed_precondition', `Export ${id} is running; artifacts exist once it has succeeded`));

    emu().setStatus(id, 'succeeded');
    const download = json(await call(emu(), 'GET', `/v1/exports/${id}/download`));
    const artifacts = download['artifacts'] as { id: string; url: string; bytes: number; filename: string }[];
    assert.deepEqual(artifacts.map((a) => a.filename), ['ds42_part_2024010100.csv.gz', 'ds42_part_2024010101.csv.gz']);
    assert.equal(download['count'], 2);
    assert.equal(download['total_bytes'], artifacts.reduce((sum, a) => sum + a.bytes, 0));
    for (const artifact of artifacts) {
      assert.match(artifact.id, /^art_[0-9a-f]{32}$/);
      assert.ok(artifact.url.startsWith(`https://tickstore-exports.s3.amazonaws.com/exports/${id}/`));
    }
  });
});

test('main.ts prints the url and key as one JSON line and exits cleanly on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts', '--port', '0'], {
    cwd: `${__dirname}/..`,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { url, apiKey } = JSON.parse(line) as { url: string; apiKey: string };
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(apiKey, 'test-key');
  const response = await fetch(`${url}/v1/exports/exp_${'d'.repeat(32)}`, { headers: { 'X-Api-Key': apiKey } });
  assert.equal(response.status, 404);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});
