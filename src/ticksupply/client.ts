import { isInteger, isSafeNumber, parse as parseLosslessJson } from 'lossless-json';
import { z } from 'zod';
import {
  InvalidExportIdError,
  RAW_BODY_LIMIT,
  TicksupplyAbortError,
  TicksupplyApiError,
  TicksupplyConnectionError,
  TicksupplyContractError,
  TicksupplyResponseError,
  TicksupplyTimeoutError,
  oneLine,
  truncate,
  type RequestContext,
} from './errors';
import { parseRateLimit, retryAfterMs, type RateLimitInfo } from './rate-limit';
import { EXPORT_ID_PATTERN, apiErrorBodySchema, exportJobSchema, type ExportJob } from './schema';

export interface TicksupplyClientOptions {
  apiKey: string;
  /**
   * Origin of the API, optionally with a path prefix, without the version segment.
   * @default 'https://api.ticksupply.com'
   */
  baseUrl?: string;
  /**
   * Deadline for one request, connect to last body byte, in ms.
   * @default 10_000 — the API gives up on its own side after 10 s (`408 request_timeout`).
   */
  timeoutMs?: number;
  /** @default 'ticksupply-temporal' */
  userAgent?: string;
}

export interface GetExportResult {
  job: ExportJob;
  /** HTTP status of the answer (any 2xx). */
  status: number;
  /** `X-Request-Id` of the answer; support asks for it. */
  requestId: string | undefined;
  rateLimit: RateLimitInfo;
}

const REDACTED = '[REDACTED]';

/**
 * Integers beyond 2^53 become `bigint` so that nanosecond timestamps survive exactly; everything
 * else becomes a plain number (the export job has no fractional fields whose digits matter).
 */
function parseJsonNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number(text);
}

function parseJson(text: string): unknown {
  return parseLosslessJson(text, null, parseJsonNumber);
}

/** `fetch failed: ECONNRESET read ECONNRESET` — undici wraps the socket error in `cause`. */
function describeNetworkFailure(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error && parts.length < 3; e = e.cause) {
    const code = 'code' in e && typeof e.code === 'string' ? `${e.code} ` : '';
    parts.push(code + e.message);
  }
  return `connection failed: ${parts.join(': ') || String(error)}`;
}

/** Zod's readable report on one line: `✖ msg → at field` becomes `msg at field; …`, ~300 chars. */
function describeIssues(error: z.ZodError): string {
  const report = z
    .prettifyError(error)
    .split('✖')
    .map((issue) => oneLine(issue.replace('→', '')))
    .filter((issue) => issue !== '')
    .join('; ');
  return truncate(`response is not an export job: ${report}`, 300);
}

/**
 * Turns a complete response into the job or the right error: a body that is not JSON, a non-2xx
 * status, a body that is not the export job asked for. `body` is already key-redacted.
 */
function interpretResponse(exportId: string, response: Response, body: string, nowMs: number): GetExportResult {
  const { status, headers } = response;
  const requestId = headers.get('x-request-id') ?? undefined;
  const rateLimit = parseRateLimit(headers);
  const context: RequestContext = { exportId, status, requestId };
  const details = {
    ...context,
    status,
    rateLimit,
    retryAfterMs: retryAfterMs(status, headers, rateLimit, nowMs),
    rawBody: truncate(body, RAW_BODY_LIMIT),
  };

  let json: unknown;
  try {
    json = parseJson(body);
  } catch (error) {
    const contentType = headers.get('content-type') ?? undefined;
    const excerpt = body === '' ? 'empty body' : `body starts ${JSON.stringify(truncate(oneLine(body), 80))}`;
    throw new TicksupplyResponseError(
      { ...details, contentType },
      `response is not valid JSON (content-type ${contentType ?? 'none'}, ${excerpt}): ${(error as Error).message}`,
      { cause: error },
    );
  }

  if (status < 200 || status > 299) {
    const errorBody = apiErrorBodySchema.safeParse(json);
    throw new TicksupplyApiError(details, errorBody.success ? errorBody.data.error : {});
  }

  const parsed = exportJobSchema.safeParse(json);
  if (!parsed.success) {
    throw new TicksupplyContractError({ ...context, status }, describeIssues(parsed.error), parsed.error.issues, {
      cause: parsed.error,
    });
  }
  if (parsed.data.id !== exportId) {
    throw new TicksupplyContractError({ ...context, status }, `response describes another export, ${parsed.data.id}`, []);
  }
  return { job: parsed.data, status, requestId, rateLimit };
}

/**
 * One `GET /v1/exports/{id}` per call, no retries: Temporal's retry policy owns retrying.
 *
 * Transport: Node's global `fetch` (undici). Its default dispatcher pools keep-alive connections
 * per origin, so repeated polls reuse sockets without an extra dependency, and one AbortSignal
 * covers connect, headers and body. Redirects are not followed: fetch would resend `X-Api-Key`
 * to whatever host a redirect names.
 */
export class TicksupplyClient {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  constructor(options: TicksupplyClientOptions) {
    if (options.apiKey === '') throw new Error('TicksupplyClient: apiKey must not be empty');
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!(timeoutMs > 0)) throw new Error('TicksupplyClient: timeoutMs must be positive');
    this.#apiKey = options.apiKey;
    this.#baseUrl = (options.baseUrl ?? 'https://api.ticksupply.com').replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
    this.#userAgent = options.userAgent ?? 'ticksupply-temporal';
  }

  /** The export job; throws a `TicksupplyError` subclass (see errors.ts) for every other outcome. */
  async getExport(exportId: string, options: { signal?: AbortSignal } = {}): Promise<GetExportResult> {
    if (!EXPORT_ID_PATTERN.test(exportId)) throw new InvalidExportIdError(exportId);
    const { response, body } = await this.#send(exportId, options.signal);
    return interpretResponse(exportId, response, body, Date.now());
  }

  async #send(exportId: string, callerSignal: AbortSignal | undefined): Promise<{ response: Response; body: string }> {
    const context: RequestContext = { exportId };
    if (callerSignal?.aborted) throw new TicksupplyAbortError(context, { cause: callerSignal.reason });

    const controller = new AbortController();
    let abortedBy: 'timeout' | 'caller' | undefined;
    const abort = (by: 'timeout' | 'caller') => {
      abortedBy ??= by;
      controller.abort();
    };
    const timer = setTimeout(abort, this.#timeoutMs, 'timeout');
    const onCallerAbort = () => abort('caller');
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const response = await fetch(`${this.#baseUrl}/v1/exports/${exportId}`, {
        headers: { 'X-Api-Key': this.#apiKey, Accept: 'application/json', 'User-Agent': this.#userAgent },
        redirect: 'manual',
        signal: controller.signal,
      });
      context.status = response.status;
      context.requestId = response.headers.get('x-request-id') ?? undefined;
      // Anything derived from the body ends up in errors and logs; a server or proxy echoing the
      // key must not leak it there.
      const body = (await response.text()).replaceAll(this.#apiKey, REDACTED);
      return { response, body };
    } catch (error) {
      if (abortedBy === 'caller') throw new TicksupplyAbortError(context, { cause: callerSignal?.reason });
      if (abortedBy === 'timeout') throw new TicksupplyTimeoutError(context, this.#timeoutMs, { cause: error });
      throw new TicksupplyConnectionError(context, describeNetworkFailure(error), { cause: error });
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }
}
