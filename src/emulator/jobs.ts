import { createHash, randomBytes } from 'node:crypto';
import { isLosslessNumber, parse, stringify } from 'lossless-json';
import type { ExportStatus } from '../ticksupply/schema';
import type { ExportScript, LifecycleStep } from './types';

const TERMINAL: ReadonlySet<ExportStatus> = new Set(['succeeded', 'failed', 'canceled']);

export function isTerminal(status: ExportStatus): boolean {
  return TERMINAL.has(status);
}

/** After the initial `queued`. */
const DEFAULT_LIFECYCLE: readonly LifecycleStep[] = [
  { status: 'running', afterMs: 1_000 },
  { status: 'succeeded', afterMs: 3_000 },
];

/** The real server's resolved parquet options are undocumented; these stand in for them. */
const FORMAT_DEFAULTS: Record<'csv' | 'parquet', Record<string, unknown>> = {
  csv: {},
  parquet: { compression: 'zstd', compression_level: 3, row_group_size: 1_048_576 },
};

/** Server-side state of one export. All times are emulator epoch ms. */
export interface Job {
  readonly id: string;
  readonly datastreamId: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly format: 'csv' | 'parquet';
  readonly formatOptions: Record<string, unknown>;
  readonly int64As: 'number' | 'string';
  readonly createdAt: number;
  status: ExportStatus;
  reason: string | undefined;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** First time the job turned terminal. */
  terminalAt: number | undefined;
  /** Time of the last transition; a later step never happens earlier. */
  changedAt: number;
  /** Scripted steps not applied yet. */
  pending: LifecycleStep[];
  /** When each `GET /v1/exports/{id}` was answered. */
  readonly pollTimes: number[];
}

/** `exp_` + 32 hex laid out like a UUIDv7 without dashes: 48-bit ms time, version 7, variant 10. */
export function newExportId(): string {
  const random = randomBytes(10).toString('hex');
  const variant = ((parseInt(random.charAt(3), 16) & 0x3) | 0x8).toString(16);
  const time = Date.now().toString(16).padStart(12, '0');
  return `exp_${time}7${random.slice(0, 3)}${variant}${random.slice(4, 19)}`;
}

export function newJob(script: ExportScript, now: number): Job {
  const format = script.format ?? 'csv';
  const job: Job = {
    id: script.id ?? newExportId(),
    datastreamId: String(script.datastreamId ?? 42),
    startTime: script.startTime ?? '1704067200123456789',
    endTime: script.endTime ?? '1704070800987654321',
    format,
    formatOptions: { ...FORMAT_DEFAULTS[format], ...script.formatOptions },
    int64As: script.int64As ?? 'number',
    createdAt: now,
    status: 'queued',
    reason: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    terminalAt: undefined,
    changedAt: now,
    pending: [...(script.lifecycle ?? DEFAULT_LIFECYCLE)],
    pollTimes: [],
  };
  advance(job, now);
  return job;
}

export function transition(job: Job, status: ExportStatus, at: number, reason?: string): void {
  job.status = status;
  job.changedAt = at;
  job.reason = status === 'failed' ? (reason ?? 'Export failed') : undefined;
  // A job that succeeded or failed did run, even when its script skipped `running`.
  if (job.startedAt === undefined && status !== 'queued' && status !== 'canceled') job.startedAt = at;
  job.finishedAt = isTerminal(status) ? at : undefined;
  if (isTerminal(status)) job.terminalAt ??= at;
}

/** Applies every scripted step that is due at `now`, each at the moment it became due. */
export function advance(job: Job, now: number): void {
  for (let step = job.pending[0]; step !== undefined; step = job.pending[0]) {
    const pollsMetAt =
      step.afterPolls === undefined || step.afterPolls <= 0
        ? -Infinity
        : (job.pollTimes[step.afterPolls - 1] ?? Infinity);
    const dueAt = Math.max(job.changedAt, job.createdAt + (step.afterMs ?? 0), pollsMetAt);
    if (dueAt > now) return;
    job.pending.shift();
    transition(job, step.status, dueAt, step.reason);
  }
}

/** The job object of API reference §3.2, in its field order; int64 fields as `bigint` or string. */
export function jobObject(job: Job): Record<string, unknown> {
  const int64 = (digits: string): bigint | string => (job.int64As === 'string' ? digits : BigInt(digits));
  const time = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: job.id,
    datastream_id: int64(job.datastreamId),
    start_time: int64(job.startTime),
    end_time: int64(job.endTime),
    format: job.format,
    format_options: job.formatOptions,
    status: job.status,
    created_at: time(job.createdAt),
    ...(job.reason === undefined ? {} : { reason: job.reason }),
    started_at: time(job.startedAt),
    finished_at: time(job.finishedAt),
  };
}

/** JSON text in which `bigint` values are written as raw digits, never through a JS number. */
export function toJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

const HOUR_NS = 3_600_000_000_000n;
/** Keeps the artifact list short for wide ranges; the real partitioning rule is undocumented. */
const MAX_ARTIFACTS = 24;

/** The `/download` body: one artifact per UTC hour the range touches, sizes derived from the id. */
export function downloadObject(job: Job): Record<string, unknown> {
  const firstHour = BigInt(job.startTime) / HOUR_NS;
  const hours = (BigInt(job.endTime) - 1n) / HOUR_NS - firstHour + 1n;
  const count = Math.min(Math.max(Number(hours), 1), MAX_ARTIFACTS);
  const extension = job.format === 'csv' ? 'csv.gz' : 'parquet';
  const artifacts = Array.from({ length: count }, (_, i) => {
    const digest = createHash('sha256').update(`${job.id}/${i}`).digest('hex');
    const hourStart = new Date(Number((firstHour + BigInt(i)) * 3_600_000n)).toISOString();
    const filename = `ds${job.datastreamId}_part_${hourStart.slice(0, 13).replace(/[-T]/g, '')}.${extension}`;
    return {
      id: `art_${digest.slice(0, 32)}`,
      url: `https://tickstore-exports.s3.amazonaws.com/exports/${job.id}/${filename}?X-Amz-Expires=900`,
      bytes: 1_000_000 + parseInt(digest.slice(32, 38), 16),
      filename,
    };
  });
  return { artifacts, count, total_bytes: artifacts.reduce((sum, a) => sum + a.bytes, 0) };
}

export type CreateRequest = { ok: true; script: ExportScript } | { ok: false; message: string };

const DIGITS = /^\d{1,19}$/;
const ISO_8601 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** ns since epoch from a JSON integer, a decimal string or ISO 8601 with up to 9 fraction digits. */
function nanos(value: unknown): string | undefined {
  if (isLosslessNumber(value)) return DIGITS.test(value.value) ? value.value : undefined;
  if (typeof value !== 'string') return undefined;
  if (DIGITS.test(value)) return value;
  const match = ISO_8601.exec(value);
  const ms = match ? Date.parse(`${match[1]}${match[3]}`) : NaN;
  if (!match || Number.isNaN(ms) || ms < 0) return undefined;
  return (BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'))).toString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/** Validates a `POST /v1/exports` body (API reference §3.1) into a script with the default lifecycle. */
export function parseCreateRequest(text: string): CreateRequest {
  const invalid = (message: string): CreateRequest => ({ ok: false, message });
  let body: unknown;
  try {
    body = parse(text);
  } catch {
    return invalid('Request body is not valid JSON');
  }
  if (!isObject(body)) return invalid('Request body must be a JSON object');

  const rawId = body['datastream_id'];
  const datastreamId = isLosslessNumber(rawId) || typeof rawId === 'string' ? Number(String(rawId)) : NaN;
  if (!Number.isSafeInteger(datastreamId) || datastreamId <= 0) {
    return invalid('datastream_id must be a positive integer');
  }
  const startTime = nanos(body['start_time']);
  const endTime = nanos(body['end_time']);
  if (startTime === undefined || endTime === undefined) {
    return invalid('start_time and end_time must be ns since epoch (integer or decimal string) or ISO 8601');
  }
  if (BigInt(startTime) >= BigInt(endTime)) return invalid('start_time must be before end_time');

  const format = body['format'] ?? 'csv';
  if (format !== 'csv' && format !== 'parquet') return invalid('format must be "csv" or "parquet"');
  const options = body['format_options'] ?? {};
  if (!isObject(options)) return invalid('format_options must be an object');
  const unknown = Object.keys(options).filter((key) => !(key in FORMAT_DEFAULTS[format]));
  if (unknown.length > 0) return invalid(`format_options for ${format} has unknown keys: ${unknown.join(', ')}`);
  const formatOptions = Object.fromEntries(
    Object.entries(options).map(([key, value]) => [key, isLosslessNumber(value) ? Number(value.value) : value]),
  );
  return { ok: true, script: { datastreamId, startTime, endTime, format, formatOptions } };
}
