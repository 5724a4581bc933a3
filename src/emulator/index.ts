/**
 * A real HTTP emulator of the Ticksupply export API (/work/shared/ticksupply-api.md §§1–6) for
 * tests, the demo and benchmarks: scripted export lifecycles, injected faults, token-bucket rate
 * limits and idempotent POSTs, with a log of every request.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExportStatus } from '../ticksupply/schema';
import { EXPORT_ID_PATTERN } from '../ticksupply/schema';
import type { Job } from './jobs';
import { advance, downloadObject, isTerminal, jobObject, newJob, parseCreateRequest, toJson, transition } from './jobs';
import type { Verdict } from './rate-limit';
import { BudgetAudit, RateLimiter } from './rate-limit';
import type { Emulator, EmulatorOptions, ExportScript, Fault, RequestRecord } from './types';

export type {
  Emulator,
  EmulatorOptions,
  EmulatorStats,
  ExportScript,
  Fault,
  LifecycleStep,
  RateLimitConfig,
  RequestRecord,
} from './types';

interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

const DEFAULT_RATE_LIMIT = { perMinute: 200, perHour: 10_000 };
/** Error codes of the docs' table (§2), for injected faults that give only a status. */
const ERROR_CODES: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  402: 'payment_required',
  403: 'permission_denied',
  404: 'not_found',
  408: 'request_timeout',
  409: 'already_exists',
  429: 'rate_limited',
  503: 'unavailable',
};

/** Idempotency-Key forms the docs accept: hyphenated, simple, braced and URN UUIDs, ≤ 128 chars. */
function isUuid(key: string): boolean {
  const bare = key.replace(/^urn:uuid:/i, '').replace(/^\{(.*)\}$/, '$1');
  return key.length <= 128 && /^[0-9a-f]{8}(-?)[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}$/i.test(bare);
}

/** `/v1/exports/exp_…/cancel` → `exportId` and the route `/v1/exports/{id}/cancel`. */
function parsePath(path: string): { route: string; exportId?: string } {
  const exportId = /^\/v1\/exports\/([^/]+)/.exec(path)?.[1];
  return exportId === undefined
    ? { route: path }
    : { route: path.replace(/^\/v1\/exports\/[^/]+/, '/v1/exports/{id}'), exportId };
}

function faultReply(fault: Fault): Reply {
  const status = fault.status ?? 500;
  if (typeof fault.body === 'string') return { status, body: fault.body };
  return fault.body === undefined
    ? errorReply(status, ERROR_CODES[status] ?? 'internal', `Injected fault: HTTP ${status}`)
    : { status, body: JSON.stringify(fault.body) };
}

function errorReply(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify({ error: { code, message } }), ...(headers ? { headers } : {}) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const apiKey = options.apiKey ?? 'test-key';
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0 && Number.isFinite(timeScale))) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  // Emulator clock (epoch ms): runs `timeScale` times faster than the real one from the moment of
  // start, and is monotonic so that a wall-clock step cannot drain or refill the buckets.
  const origin = Date.now();
  const monotonicOrigin = performance.now();
  const now = (): number => origin + (performance.now() - monotonicOrigin) * timeScale;
  const toReal = (emulatorMs: number): number => origin + (emulatorMs - origin) / timeScale;

  const limits = options.rateLimit === undefined ? DEFAULT_RATE_LIMIT : options.rateLimit;
  const limiter = limits === false ? undefined : new RateLimiter(limits, origin);
  const audit = limits === false ? undefined : new BudgetAudit(limits, origin);
  const jobs = new Map<string, Job>();
  const idempotency = new Map<string, { fingerprint: string; reply: Reply }>();
  const faults: (Fault & { times: number })[] = [];
  const requests: RequestRecord[] = [];
  const closing = new AbortController();

  function lookup(id: string): Job | Reply {
    if (!EXPORT_ID_PATTERN.test(id)) {
      return errorReply(400, 'invalid_argument', `Invalid export id ${id}: expected exp_ followed by 32 hex characters`);
    }
    const job = jobs.get(id);
    if (!job) return errorReply(404, 'not_found', `Export ${id} not found`);
    advance(job, now());
    return job;
  }

  function getExport(id: string): Reply {
    const job = lookup(id);
    if (!('id' in job)) return job;
    const body = toJson(jobObject(job));
    job.pollTimes.push(now());
    return { status: 200, body };
  }

  function cancelExport(id: string): Reply {
    const job = lookup(id);
    if (!('id' in job)) return job;
    if (isTerminal(job.status)) {
      return errorReply(409, 'failed_precondition', `Export ${id} is already ${job.status}`);
    }
    job.pending = [];
    transition(job, 'canceled', now());
    return { status: 204 };
  }

  function downloadExport(id: string): Reply {
    const job = lookup(id);
    if (!('id' in job)) return job;
    if (job.status !== 'succeeded') {
      return errorReply(409, 'failed_precondition', `Export ${id} is ${job.status}; artifacts exist once it has succeeded`);
    }
    return { status: 200, body: toJson(downloadObject(job)) };
  }

  function createFromRequest(text: string): Reply {
    const parsed = parseCreateRequest(text);
    if (!parsed.ok) return errorReply(400, 'invalid_argument', parsed.message);
    const job = newJob(parsed.script, now());
    jobs.set(job.id, job);
    return { status: 202, body: toJson(jobObject(job)) };
  }

  /** Replays the original reply for a repeated key with the same method, path and body (§6). */
  async function idempotent(req: IncomingMessage, path: string, run: (body: string) => Reply): Promise<Reply> {
    const body = await readBody(req);
    const key = req.headers['idempotency-key'];
    if (key === undefined) return run(body);
    if (typeof key !== 'string' || !isUuid(key)) {
      return errorReply(400, 'invalid_argument', 'Idempotency-Key must be a UUID');
    }
    const fingerprint = `${req.method} ${path}\n${body}`;
    const previous = idempotency.get(key);
    if (previous) {
      return previous.fingerprint === fingerprint
        ? previous.reply
        : errorReply(409, 'already_exists', 'Idempotency-Key was already used with a different request');
    }
    const reply = run(body);
    idempotency.set(key, { fingerprint, reply });
    return reply;
  }

  async function dispatch(req: IncomingMessage, path: string): Promise<Reply> {
    const { route, exportId = '' } = parsePath(path);
    switch (`${req.method} ${route}`) {
      case 'POST /v1/exports':
        return idempotent(req, path, createFromRequest);
      case 'GET /v1/exports/{id}':
        return getExport(exportId);
      case 'POST /v1/exports/{id}/cancel':
        return idempotent(req, path, () => cancelExport(exportId));
      case 'GET /v1/exports/{id}/download':
        return downloadExport(exportId);
      default:
        return errorReply(404, 'not_found', `No route for ${req.method} ${path}`);
    }
  }

  function rateLimitHeaders(verdict: Verdict): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, bucket] of [['Minute', verdict.minute], ['Hour', verdict.hour]] as const) {
      headers[`X-RateLimit-Limit-${name}`] = String(bucket.limit);
      headers[`X-RateLimit-Remaining-${name}`] = String(bucket.remaining);
      // Newer docs: absolute epoch seconds of the next capacity, sent only while exhausted.
      if (bucket.waitMs > 0) {
        headers[`X-RateLimit-Reset-${name}`] = String(Math.ceil((Date.now() + bucket.waitMs / timeScale) / 1000));
      }
    }
    return headers;
  }

  /** Auth, then the account's buckets, then the endpoint. */
  async function answer(req: IncomingMessage, path: string, apiKeyOk: boolean): Promise<Reply> {
    const at = now();
    // Only authenticated requests spend tokens; the others still see the buckets' state.
    const verdict = apiKeyOk ? limiter?.take(at) : limiter?.peek(at);
    const headers = verdict ? rateLimitHeaders(verdict) : {};
    if (!apiKeyOk) return errorReply(401, 'unauthenticated', 'Invalid or missing API key', headers);
    if (verdict && !verdict.allowed) {
      const seconds = Math.ceil(Math.max(verdict.minute.waitMs, verdict.hour.waitMs) / timeScale / 1000);
      return errorReply(429, 'rate_limited', `Rate limit exceeded. Retry after ${seconds} seconds.`, {
        ...headers,
        'Retry-After': String(seconds),
      });
    }
    if (verdict) audit?.admit(at);
    const reply = await dispatch(req, path);
    return { ...reply, headers: { ...headers, ...reply.headers } };
  }

  /** The first pending fault matching the request; one without `exportId` matches every request. */
  function takeFault(method: string, path: string): Fault | undefined {
    const { route, exportId } = parsePath(path);
    const index = faults.findIndex(
      (f) => f.exportId === undefined || (`${method} ${route}` === 'GET /v1/exports/{id}' && exportId === f.exportId),
    );
    const fault = faults[index];
    if (fault === undefined) return undefined;
    fault.times -= 1;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const { exportId } = parsePath(path);
    const record: RequestRecord = {
      method,
      path,
      ...(exportId === undefined ? {} : { exportId }),
      status: 0,
      requestId: `req_${randomBytes(8).toString('hex')}`,
      at: Date.now(),
      apiKeyOk: req.headers['x-api-key'] === apiKey,
    };
    requests.push(record);

    // Faults come before auth and rate limiting, as a proxy or a crashing server would.
    const fault = takeFault(method, path);
    if (fault?.delayMs !== undefined) {
      const aborted = await sleep(fault.delayMs, false, { signal: closing.signal }).catch(() => true);
      if (aborted) return;
    }
    if (fault?.hang) return;
    if (fault?.destroySocket) {
      req.socket.destroy();
      return;
    }
    const reply =
      fault && (fault.status !== undefined || fault.body !== undefined)
        ? faultReply(fault)
        : await answer(req, path, record.apiKeyOk).catch((error: unknown) =>
            errorReply(500, 'internal', `Emulator error: ${String(error)}`),
          );
    record.status = reply.status;
    res.writeHead(reply.status, {
      ...(reply.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(fault?.omitRequestId ? {} : { 'X-Request-Id': record.requestId }),
      ...reply.headers,
      ...fault?.headers,
    });
    res.end(reply.body);
  }

  // `handle` answers its own errors; what escapes it (e.g. a malformed injected header) drops the socket.
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  // Longer than clients' idle keep-alive timeouts (Node's agent and undici use 4–5 s), so the
  // server never closes a socket that a client is just reusing.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  function current(id: string): Job {
    const job = jobs.get(id);
    if (!job) throw new Error(`emulator has no export ${id}`);
    advance(job, now());
    return job;
  }

  return {
    url: `http://${address.address}:${address.port}`,
    apiKey,
    createExport(script: ExportScript = {}): string {
      const job = newJob(script, now());
      if (!EXPORT_ID_PATTERN.test(job.id)) throw new Error(`export id ${job.id} does not match ${EXPORT_ID_PATTERN}`);
      if (jobs.has(job.id)) throw new Error(`export ${job.id} already exists`);
      jobs.set(job.id, job);
      return job.id;
    },
    setStatus(id: string, status: ExportStatus, reason?: string): void {
      const job = current(id);
      job.pending = [];
      transition(job, status, now(), reason);
    },
    job(id: string): object | undefined {
      return jobs.has(id) ? jobObject(current(id)) : undefined;
    },
    injectFault(fault: Fault): void {
      faults.push({ ...fault, times: fault.times ?? 1 });
    },
    get requests(): readonly RequestRecord[] {
      return requests;
    },
    stats() {
      const byStatus: Record<number, number> = {};
      for (const { status } of requests) byStatus[status] = (byStatus[status] ?? 0) + 1;
      return { total: requests.length, rateLimited: byStatus[429] ?? 0, overBudget: audit?.violations ?? 0, byStatus };
    },
    terminalAt(id: string): number | undefined {
      const job = jobs.has(id) ? current(id) : undefined;
      return job?.terminalAt === undefined ? undefined : toReal(job.terminalAt);
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
