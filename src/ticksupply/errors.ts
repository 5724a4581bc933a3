/**
 * Everything `TicksupplyClient` throws. Each class sets an explicit `name` so that callers (and
 * Temporal's failure converter) see the same name after bundling or minification.
 *
 * Every message is one line: `export <id>, HTTP <status>, request <X-Request-Id>: <why>`.
 * Nothing here ever holds the API key: the client redacts it from response bodies before any of
 * their text reaches an error.
 */
import type { z } from 'zod';
import type { RateLimitInfo } from './rate-limit';
import { EXPORT_ID_PATTERN } from './schema';

/** Which request failed. `status` and `requestId` are absent when no response (headers) arrived. */
export interface RequestContext {
  exportId: string;
  status?: number | undefined;
  requestId?: string | undefined;
}

/** Longest excerpt of a response body kept on an error, in characters. */
export const RAW_BODY_LIMIT = 1000;

export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * `export exp_…, HTTP 503, request req_…` — the part every message starts with. An id that is not
 * a valid export id is caller input of any length and content: it is quoted and capped.
 */
export function describeRequest({ exportId, status, requestId }: RequestContext): string {
  const id = EXPORT_ID_PATTERN.test(exportId) ? exportId : JSON.stringify(truncate(exportId, 80));
  const parts = [`export ${id}`, status === undefined ? 'no HTTP response' : `HTTP ${status}`];
  if (requestId !== undefined) parts.push(`request ${requestId}`);
  return parts.join(', ');
}

export class TicksupplyError extends Error {
  override readonly name: string = 'TicksupplyError';
  readonly exportId: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(context: RequestContext, why: string, options?: ErrorOptions) {
    super(`${describeRequest(context)}: ${oneLine(why)}`, options);
    this.exportId = context.exportId;
    this.status = context.status;
    this.requestId = context.requestId;
  }
}

/** The id does not match `EXPORT_ID_PATTERN`; thrown before any request is sent. */
export class InvalidExportIdError extends TicksupplyError {
  override readonly name = 'InvalidExportIdError';

  constructor(exportId: string) {
    super({ exportId }, 'invalid export id, expected exp_ followed by 32 lowercase hex characters; no request sent');
  }
}

/** Fields of a non-2xx response, after its body was read. */
export interface ResponseDetails {
  status: number;
  /** Delay the server asked for (`Retry-After`, or the rate-limit reset headers on a 429), in ms. */
  retryAfterMs: number | undefined;
  rateLimit: RateLimitInfo;
  /** The body as received (key redacted), cut to `RAW_BODY_LIMIT` characters. */
  rawBody: string;
}

/** An answer arrived: what every error about a received response carries. */
export abstract class TicksupplyHttpError extends TicksupplyError {
  declare readonly status: number;
  /** Delay the server asked for, in ms; see {@link ResponseDetails.retryAfterMs}. */
  readonly retryAfterMs: number | undefined;
  readonly rateLimit: RateLimitInfo;
  /** The body as received (key redacted), cut to `RAW_BODY_LIMIT` characters. */
  readonly rawBody: string;

  constructor(context: RequestContext & ResponseDetails, why: string, options?: ErrorOptions) {
    super(context, why, options);
    this.retryAfterMs = context.retryAfterMs;
    this.rateLimit = context.rateLimit;
    this.rawBody = context.rawBody;
  }
}

/** A non-2xx answer carrying JSON, normally the API's `{"error":{code,message,details}}`. */
export class TicksupplyApiError extends TicksupplyHttpError {
  override readonly name = 'TicksupplyApiError';
  /** The API's error code (`not_found`, `rate_limited`, …); open-ended, absent when the JSON has none. */
  readonly code: string | undefined;
  /** The API's human-readable message; may change between API versions, never branch on it. */
  readonly apiMessage: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    context: RequestContext & ResponseDetails,
    error: { code?: string | undefined; message?: string | undefined; details?: Record<string, unknown> | undefined },
  ) {
    const retry = context.retryAfterMs === undefined ? '' : ` (retry after ${context.retryAfterMs} ms)`;
    const why =
      error.code === undefined
        ? `error body without an API error code: ${truncate(oneLine(context.rawBody), 200)}`
        : `${error.code}: ${truncate(error.message ?? '(no message)', 200)}`;
    super(context, why + retry);
    this.code = error.code;
    this.apiMessage = error.message;
    this.details = error.details;
  }
}

/** No HTTP response, or the connection broke while the body was arriving (reset, hang-up, refused). */
export class TicksupplyConnectionError extends TicksupplyError {
  override readonly name = 'TicksupplyConnectionError';
}

/** The client's own deadline (`timeoutMs`) passed before the whole response was read. */
export class TicksupplyTimeoutError extends TicksupplyError {
  override readonly name = 'TicksupplyTimeoutError';
  readonly timeoutMs: number;

  constructor(context: RequestContext, timeoutMs: number, options?: ErrorOptions) {
    super(context, `no complete response within ${timeoutMs} ms (client timeout)`, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller's `AbortSignal` fired. Named `AbortError` like the platform's own aborts, so generic
 * code (Temporal's worker included) recognises it as a cancellation rather than a failure.
 */
export class TicksupplyAbortError extends TicksupplyError {
  override readonly name = 'AbortError';

  constructor(context: RequestContext, options?: ErrorOptions) {
    super(context, 'request aborted by the caller', options);
  }
}

/**
 * The body is not JSON (a proxy's HTML page, an empty body, JSON cut short). The API always
 * answers JSON, so such a response came from something in between and is worth retrying.
 */
export class TicksupplyResponseError extends TicksupplyHttpError {
  override readonly name = 'TicksupplyResponseError';
  readonly contentType: string | undefined;

  constructor(
    context: RequestContext & ResponseDetails & { contentType: string | undefined },
    why: string,
    options?: ErrorOptions,
  ) {
    super(context, why, options);
    this.contentType = context.contentType;
  }
}

/** A 2xx JSON body that is not the documented export job (unknown status, missing or bad fields). */
export class TicksupplyContractError extends TicksupplyError {
  override readonly name = 'TicksupplyContractError';
  declare readonly status: number;
  readonly issues: readonly z.core.$ZodIssue[];

  constructor(context: RequestContext & { status: number }, why: string, issues: readonly z.core.$ZodIssue[], options?: ErrorOptions) {
    super(context, why, options);
    this.issues = issues;
  }
}
