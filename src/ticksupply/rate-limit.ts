/**
 * The API's rate-limit headers (API reference §5). Two documented meanings of the reset headers
 * exist: absolute epoch seconds, sent only when a bucket is exhausted (newer docs), and seconds
 * until the window resets, sent always (older docs). Values above 1e9 are taken as epoch seconds.
 */

/** `X-RateLimit-{Limit,Remaining,Reset}-{Minute,Hour}` as sent; reset values are not converted. */
export interface RateLimitInfo {
  limitMinute?: number;
  remainingMinute?: number;
  resetMinute?: number;
  limitHour?: number;
  remainingHour?: number;
  resetHour?: number;
}

const HEADERS = {
  limitMinute: 'x-ratelimit-limit-minute',
  remainingMinute: 'x-ratelimit-remaining-minute',
  resetMinute: 'x-ratelimit-reset-minute',
  limitHour: 'x-ratelimit-limit-hour',
  remainingHour: 'x-ratelimit-remaining-hour',
  resetHour: 'x-ratelimit-reset-hour',
} as const satisfies Record<keyof RateLimitInfo, string>;

/** A reset value above this is an epoch timestamp in seconds (1e9 s is September 2001). */
const EPOCH_SECONDS_THRESHOLD = 1e9;

function headerNumber(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name)?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

export function parseRateLimit(headers: Headers): RateLimitInfo {
  const info: RateLimitInfo = {};
  for (const [field, header] of Object.entries(HEADERS) as [keyof RateLimitInfo, string][]) {
    const value = headerNumber(headers, header);
    if (value !== undefined) info[field] = value;
  }
  return info;
}

/** A reset header value as a delay from `nowMs`, in ms, never negative. */
function resetDelayMs(reset: number, nowMs: number): number {
  const ms = reset > EPOCH_SECONDS_THRESHOLD ? reset * 1000 - nowMs : reset * 1000;
  return Math.max(0, Math.ceil(ms));
}

/**
 * How long the server asked us to wait, in ms: `Retry-After` (delta-seconds or an HTTP date) on
 * any status; failing that, on a 429 only, the reset header of the exhausted bucket. A bucket
 * counts as exhausted when its remaining count is 0 or not sent (the newer docs send a reset only
 * for exhausted buckets); when several are, the later reset wins, since both must have capacity.
 */
export function retryAfterMs(status: number, headers: Headers, rateLimit: RateLimitInfo, nowMs: number): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter !== undefined && retryAfter !== '') {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
  if (status !== 429) return undefined;
  const buckets = [
    { remaining: rateLimit.remainingMinute, reset: rateLimit.resetMinute },
    { remaining: rateLimit.remainingHour, reset: rateLimit.resetHour },
  ].flatMap(({ remaining, reset }) =>
    reset === undefined ? [] : [{ exhausted: remaining === undefined || remaining <= 0, delayMs: resetDelayMs(reset, nowMs) }],
  );
  const exhausted = buckets.filter((b) => b.exhausted);
  if (exhausted.length > 0) return Math.max(...exhausted.map((b) => b.delayMs));
  // Every bucket claims capacity although the server said 429: the nearest reset is the best guess.
  return buckets.length > 0 ? Math.min(...buckets.map((b) => b.delayMs)) : undefined;
}
