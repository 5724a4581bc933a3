/** What every benchmark prints and writes: the machine, tables, and raw figures as JSON. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ARTIFACTS_DIR = path.resolve(__dirname, '..', '..', '.artifacts', 'bench');
const TEMPORAL_STAMP = path.resolve(__dirname, '..', '..', '.temporal-venv', '.installed');

export interface Machine {
  date: string;
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  os: string;
  /** Pinned Temporal server packages, as scripts/install-temporal.sh recorded them. */
  temporalServers: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    temporalServers: readFileSync(TEMPORAL_STAMP, 'utf8').trim(),
  };
}

export function machineLine(m: Machine): string {
  return `${m.date} · ${m.cores} cores (${m.cpu}) · ${m.memoryGiB} GiB · node ${m.node} · ${m.os} · ${m.temporalServers}`;
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Writes `<name>.json` under `.artifacts/bench/` and returns its path. */
export function writeArtifact(name: string, data: unknown): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** `850 ms`, `4.2 s`, `7.5 min`, `6 h`: three significant figures at most. */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(ms) >= size) return `${Number((ms / size).toPrecision(3))} ${unit}`;
  }
  return `${Math.round(ms)} ms`;
}

/** Nearest-rank percentile (`p` in (0, 1]) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  if (value === undefined) throw new Error('percentile of an empty list');
  return value;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}
