/**
 * The polling cadence in one place: defaults, resolution to milliseconds, and the delay before
 * each poll. Pure and deterministic given its inputs, so the workflow (resolution) and the
 * activity (delays, with jitter drawn there) share it.
 */
import { msToNumber } from '@temporalio/common';
import type { PollCadence } from './shared';

export interface ResolvedCadence {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  jitter: number;
}

export const DEFAULT_CADENCE = {
  initialInterval: '5s',
  backoffCoefficient: 1.5,
  maximumInterval: '1m',
  jitter: 0.1,
} as const;

/** Applies the defaults and checks the ranges; throws a plain `Error` naming the bad option. */
export function resolveCadence(options: PollCadence): ResolvedCadence {
  const cadence: ResolvedCadence = {
    initialIntervalMs: msToNumber(options.initialInterval ?? DEFAULT_CADENCE.initialInterval),
    backoffCoefficient: options.backoffCoefficient ?? DEFAULT_CADENCE.backoffCoefficient,
    maximumIntervalMs: msToNumber(options.maximumInterval ?? DEFAULT_CADENCE.maximumInterval),
    jitter: options.jitter ?? DEFAULT_CADENCE.jitter,
  };
  if (!(cadence.initialIntervalMs >= 1)) throw new Error('initialInterval must be at least 1 ms');
  if (!(cadence.backoffCoefficient >= 1)) throw new Error('backoffCoefficient must be at least 1');
  if (!(cadence.maximumIntervalMs >= cadence.initialIntervalMs)) {
    throw new Error('maximumInterval must not be below initialInterval');
  }
  if (!(cadence.jitter >= 0 && cadence.jitter < 1)) throw new Error('jitter must be in [0, 1)');
  return cadence;
}

/**
 * Delay in ms after poll number `attempt` (1-based) found the export unchanged:
 * `initial × coefficient^(attempt−1)`, capped at the maximum, then spread by ±jitter.
 * `random` is a number in [0, 1).
 */
export function pollDelayMs(cadence: ResolvedCadence, attempt: number, random: number): number {
  const base = Math.min(
    cadence.maximumIntervalMs,
    cadence.initialIntervalMs * cadence.backoffCoefficient ** Math.max(0, attempt - 1),
  );
  return Math.max(1, Math.round(base * (1 + cadence.jitter * (2 * random - 1))));
}
