import { z } from 'zod';

/** Every status the API documents; the first two are the only non-terminal ones. */
export const EXPORT_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** `exp_` + 32 lowercase hex characters, as the API reference documents for export ids. */
export const EXPORT_ID_PATTERN = /^exp_[a-f0-9]{32}$/;

/**
 * int64 fields arrive as a JSON number or a decimal string. The lossless parser hands integers
 * beyond 2^53 over as `bigint` (never a rounded JS number), so every form ends up as the same
 * decimal string.
 */
const int64String = z
  // Without its own message a failed union reports only "Invalid input".
  .union([z.string(), z.bigint(), z.number().int()], { error: 'expected an int64 as a JSON integer or decimal string' })
  .transform((v) => v.toString())
  .pipe(z.string().regex(/^-?\d{1,19}$/, 'expected an int64 as a decimal integer'));

const dateTime = z.string().min(1);

/**
 * The lossless parser yields `bigint` for integers beyond 2^53; Temporal's JSON payloads cannot
 * carry `bigint`, so free-form objects get them as decimal strings.
 */
function bigintsToStrings<T>(value: T): T {
  if (typeof value === 'bigint') return value.toString() as T;
  if (Array.isArray(value)) return value.map(bigintsToStrings) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bigintsToStrings(v)])) as T;
  }
  return value;
}

/**
 * The export job object of `GET /v1/exports/{id}` (API reference §3.2). Unknown extra fields are
 * tolerated and dropped; `reason`, `started_at` and `finished_at` may be absent or null. `status`
 * is kept to the documented enum: a value the client does not know fails validation loudly
 * instead of being mistaken for success.
 */
export const exportJobSchema = z.object({
  id: z.string().regex(EXPORT_ID_PATTERN, 'expected exp_ followed by 32 lowercase hex characters'),
  datastream_id: int64String,
  start_time: int64String,
  end_time: int64String,
  /** Absent in the oldest documented API version; `csv` or `parquet` today. */
  format: z.string().optional(),
  /** Server-resolved options, passed through as they came (integers beyond 2^53 as decimal strings). */
  format_options: z.record(z.string(), z.unknown()).transform(bigintsToStrings).optional(),
  status: z.enum(EXPORT_STATUSES),
  created_at: dateTime,
  reason: z.string().nullish(),
  started_at: dateTime.nullish(),
  finished_at: dateTime.nullish(),
});

export type ExportJob = z.infer<typeof exportJobSchema>;

/** `{"error":{"code","message","details"}}`, every error of every endpoint (API reference §2). */
export const apiErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
