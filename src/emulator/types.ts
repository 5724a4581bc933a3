import type { ExportStatus } from '../ticksupply/schema';

/**
 * One scripted status change. A step applies once every condition it names holds; steps apply in
 * order, so a step waits for the one before it. A step without conditions applies at once.
 */
export interface LifecycleStep {
  status: ExportStatus;
  /** Emulator milliseconds after creation (real ms × `timeScale`). */
  afterMs?: number;
  /** Applies once this many `GET /v1/exports/{id}` of the export have been answered, so poll N+1 sees it. */
  afterPolls?: number;
  /** Failure reason served while the status is `failed`. */
  reason?: string;
}

export interface ExportScript {
  /** Default: `exp_` + 32 hex laid out like a UUIDv7. */
  id?: string;
  /** Default 42. */
  datastreamId?: number;
  /** Nanoseconds since the Unix epoch as a decimal string. Default `'1704067200123456789'`. */
  startTime?: string;
  /** Default `'1704070800987654321'`. */
  endTime?: string;
  /** Default `'csv'`. */
  format?: 'csv' | 'parquet';
  /** Overrides merged over the format's resolved defaults (`{}` for csv). */
  formatOptions?: Record<string, unknown>;
  /** Default: `queued` at creation, `running` after 1 s, `succeeded` after 3 s. */
  lifecycle?: LifecycleStep[];
  /**
   * How `datastream_id`, `start_time` and `end_time` are written on the wire. `'number'` (default)
   * writes raw JSON digits that never pass through a JS number; `'string'` writes decimal strings.
   */
  int64As?: 'number' | 'string';
}

export interface Fault {
  /** Only `GET /v1/exports/{id}` of this export; default: any request. */
  exportId?: string;
  /** How many matching requests it applies to. Default 1; `Infinity` allowed. */
  times?: number;
  /** Answer with this status (default 500 when only `body` is given)... */
  status?: number;
  /** ...and this body: a string goes out verbatim (HTML, truncated JSON), an object JSON-encoded. */
  body?: string | object;
  /** Extra or overriding response headers, e.g. `{ 'Retry-After': '7' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering; alone it makes a slow but otherwise normal answer. */
  delayMs?: number;
  /** Never answer, until the client aborts or the emulator closes. */
  hang?: boolean;
  /** Drop the connection without a response. */
  destroySocket?: boolean;
  omitRequestId?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  exportId?: string;
  /** 0 while unanswered, and for requests that never get an answer (hang, dropped socket). */
  status: number;
  requestId: string;
  /** Arrival, epoch ms. */
  at: number;
  apiKeyOk: boolean;
}

/** Token buckets for the whole emulator (it is one account), refilled continuously. */
export interface RateLimitConfig {
  perMinute: number;
  perHour: number;
}

export interface EmulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default `'127.0.0.1'`. */
  host?: string;
  /** Default `'test-key'`. */
  apiKey?: string;
  /** Default `{ perMinute: 200, perHour: 10000 }`, the documented account limits. */
  rateLimit?: RateLimitConfig | false;
  /** Default 1; above 1 lifecycles and rate-limit refill run that many times faster than real time. */
  timeScale?: number;
}

export interface EmulatorStats {
  total: number;
  /** Responses with status 429. */
  rateLimited: number;
  /** Admitted requests beyond what the buckets allow, found by an independent audit; must stay 0. */
  overBudget: number;
  byStatus: Record<number, number>;
}

export interface Emulator {
  /** e.g. `http://127.0.0.1:54321`: no trailing slash, no `/v1`. */
  readonly url: string;
  readonly apiKey: string;
  /** Returns the id. Throws for a malformed or already used id. */
  createExport(script?: ExportScript): string;
  /** Manual transition at the current emulator time; the rest of the script is dropped. */
  setStatus(id: string, status: ExportStatus, reason?: string): void;
  /** The job object as it would be served now; int64 fields are `bigint` in number mode. */
  job(id: string): object | undefined;
  injectFault(fault: Fault): void;
  readonly requests: readonly RequestRecord[];
  stats(): EmulatorStats;
  /** Epoch ms (real clock) at which the export first turned terminal. */
  terminalAt(id: string): number | undefined;
  /** Closes every socket, hanging ones included. */
  close(): Promise<void>;
}
