import type { RateLimitConfig } from './types';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface BucketView {
  limit: number;
  /** Whole tokens left. */
  remaining: number;
  /** Emulator ms until one whole token is available; 0 when one is. */
  waitMs: number;
}

export interface Verdict {
  allowed: boolean;
  minute: BucketView;
  hour: BucketView;
}

/** Starts full, refills continuously at `limit` tokens per window. Times are emulator ms. */
class Bucket {
  private tokens: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private last: number,
  ) {
    this.tokens = limit;
  }

  refill(now: number): void {
    this.tokens = Math.min(this.limit, this.tokens + ((now - this.last) * this.limit) / this.windowMs);
    this.last = now;
  }

  hasToken(): boolean {
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }

  view(): BucketView {
    return {
      limit: this.limit,
      remaining: Math.floor(this.tokens),
      waitMs: this.hasToken() ? 0 : ((1 - this.tokens) * this.windowMs) / this.limit,
    };
  }
}

/** The account's two buckets: a request needs a token from both and takes one from each. */
export class RateLimiter {
  private readonly minute: Bucket;
  private readonly hour: Bucket;

  constructor(config: RateLimitConfig, now: number) {
    this.minute = new Bucket(config.perMinute, MINUTE_MS, now);
    this.hour = new Bucket(config.perHour, HOUR_MS, now);
  }

  /** Takes a token from both buckets when both have one. */
  take(now: number): Verdict {
    return this.check(now, true);
  }

  /** The state without taking anything (for requests that are not counted, e.g. unauthenticated). */
  peek(now: number): Verdict {
    return this.check(now, false);
  }

  private check(now: number, consume: boolean): Verdict {
    this.minute.refill(now);
    this.hour.refill(now);
    const allowed = this.minute.hasToken() && this.hour.hasToken();
    if (allowed && consume) {
      this.minute.take();
      this.hour.take();
    }
    return { allowed, minute: this.minute.view(), hour: this.hour.view() };
  }
}

/**
 * Checks the limiter's admissions against the token-bucket bound, without sharing its code: a
 * bucket of capacity C refilled at r tokens/ms admits at most C + r·(t_j − t_i) requests in any
 * span [t_i, t_j]. With g_k = k − r·t_k for the k-th admission that reads g_j − min_{i≤j} g_i ≤ C − 1,
 * which needs only the running minimum per bucket.
 */
export class BudgetAudit {
  private admitted = 0;
  private readonly bounds: { capacity: number; ratePerMs: number; minG: number }[];
  /** Admissions that broke the bound of at least one bucket. */
  violations = 0;

  /** `origin` keeps the products r·t small enough for exact-enough doubles. */
  constructor(
    config: RateLimitConfig,
    private readonly origin: number,
  ) {
    this.bounds = [
      { capacity: config.perMinute, ratePerMs: config.perMinute / MINUTE_MS, minG: Infinity },
      { capacity: config.perHour, ratePerMs: config.perHour / HOUR_MS, minG: Infinity },
    ];
  }

  admit(now: number): void {
    this.admitted += 1;
    let broken = false;
    for (const bound of this.bounds) {
      const g = this.admitted - bound.ratePerMs * (now - this.origin);
      bound.minG = Math.min(bound.minG, g);
      // 1e-6 absorbs floating-point drift in the limiter's incremental refill.
      if (g - bound.minG > bound.capacity - 1 + 1e-6) broken = true;
    }
    if (broken) this.violations += 1;
  }
}
