/**
 * What the Temporal Web UI shows of a running wait: its current details, in the UI's markdown.
 * Pure and deterministic: the same progress always renders the same text, on replay too.
 */
import type { AwaitExportCarried } from '../shared';

const NS_PER_MS = 1_000_000n;

/** The current details of a wait: what the export is, where it stands, and until when the wait goes on. */
export function currentDetails(exportId: string, progress: AwaitExportCarried): string {
  const { job } = progress;
  const lines = [
    job === undefined
      ? '**Status:** not read yet'
      : `**Status:** ${job.status} since ${progress.statusSince ?? 'unknown'}${job.reason ? ` — ${job.reason}` : ''}`,
    `**Export:** ${exportId}`,
  ];
  if (job !== undefined) {
    lines.push(
      `**Datastream:** ${job.datastream_id}`,
      `**Time range:** ${nanosToIso(job.start_time)} to ${nanosToIso(job.end_time)}`,
    );
  }
  // Polls of an unchanged status are retries of the pending activity, counted once it ends.
  const pending = job === undefined || job.status === 'queued' || job.status === 'running';
  lines.push(
    `**Polls answered:** ${progress.polls}${pending ? ', plus the retries of the pending poll' : ''}`,
    `**Deadline:** ${progress.deadline}`,
  );
  return lines.map((line) => `- ${line}`).join('\n');
}

/**
 * Nanoseconds since the Unix epoch, as the API's int64 decimal string, in ISO 8601 UTC with as many
 * fraction digits as it needs (`1704067200123456789` → `2024-01-01T00:00:00.123456789Z`). Exact:
 * the whole int64 range (years 1677 to 2262) fits a `Date` at millisecond precision, and the
 * sub-millisecond digits come from the integer itself.
 */
export function nanosToIso(ns: string): string {
  if (!/^-?\d{1,19}$/.test(ns)) return ns;
  const value = BigInt(ns);
  let ms = value / NS_PER_MS;
  let subMs = value % NS_PER_MS;
  // BigInt division truncates toward zero; times before 1970 need the floor.
  if (subMs < 0n) {
    ms -= 1n;
    subMs += NS_PER_MS;
  }
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  const fraction = `${iso.slice(20, 23)}${subMs.toString().padStart(6, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}
