/** Text for people: progress lines, result summaries, failure lines. Pure. */
import type { ExportJob } from '../shared';
import type { WaitOutcome, WaitProgress } from './types';

/** `850ms`, `42s`, `3m05s`, `2h07m`, `3d04h`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3_600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h${pad(Math.floor((s % 3_600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3_600))}h`;
}

/** Nanoseconds since the epoch (decimal string) as ISO 8601 with all nine fraction digits. */
export function nanosToIso(nanos: string): string {
  if (!/^\d+$/.test(nanos)) return nanos;
  const value = BigInt(nanos);
  const seconds = new Date(Number(value / 1_000_000_000n) * 1_000).toISOString().slice(0, 19);
  return `${seconds}.${(value % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line per running wait, e.g. `exp_… running for 12s · 4 polls · next poll in 3s`. */
export function progressLine(progress: WaitProgress, now: number): string {
  const { exportId, state } = progress;
  if (state === undefined) return `${exportId} waiting for a worker to pick up the wait`;
  if (state.status === undefined) return `${exportId} reading the export for the first time`;
  const since = state.statusSince === undefined ? '' : ` for ${formatDuration(now - Date.parse(state.statusSince))}`;
  const parts = [`${exportId} ${state.status}${since}`, plural(progress.polls, 'poll')];
  if (progress.pollingNow) parts.push('polling now');
  else if (progress.nextPollAt !== undefined) parts.push(`next poll in ${formatDuration(progress.nextPollAt - now)}`);
  if (progress.lastError !== undefined) parts.push(`last attempt: ${progress.lastError}`);
  return parts.join(' · ');
}

/** What a plain (non-terminal) progress stream prints a new line for. */
export function progressKey(progress: WaitProgress): string {
  return [progress.state === undefined, progress.state?.status, progress.polls, progress.lastError].join('|');
}

/** The last line a wait's progress shows. */
export function finalLine(outcome: WaitOutcome): string {
  if (!outcome.ok) return `${outcome.exportId} ${outcome.failure.type}`;
  const { result } = outcome;
  return `${outcome.exportId} succeeded · ${plural(result.polls, 'poll')} in ${formatDuration(result.elapsedMs)}`;
}

function describeJob(job: ExportJob): string {
  const format = job.format === undefined ? '' : `, ${job.format}`;
  return `datastream ${job.datastream_id}${format}, ${nanosToIso(job.start_time)} to ${nanosToIso(job.end_time)}`;
}

/** A succeeded wait for people, on a few lines. */
export function successSummary(outcome: Extract<WaitOutcome, { ok: true }>): string {
  const { job, polls, elapsedMs, statusHistory } = outcome.result;
  return [
    `Export ${job.id} succeeded after ${formatDuration(elapsedMs)} and ${plural(polls, 'poll')}`,
    `  ${describeJob(job)}`,
    `  ${statusHistory.map((step) => `${step.status} ${step.at}`).join(' -> ')}`,
    ...(job.finished_at == null ? [] : [`  finished ${job.finished_at}`]),
  ].join('\n');
}

/** A failed wait on one line: the failure type, then its one-line message. */
export function failureLine(outcome: Extract<WaitOutcome, { ok: false }>): string {
  return `${outcome.failure.type}: ${outcome.failure.message}`;
}
