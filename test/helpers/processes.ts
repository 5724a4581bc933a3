/**
 * Commands run as real processes (the CLI, the demo), and the checks that they left nothing
 * behind: no listening port, no stray process.
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves once `pattern` has appeared on stdout or stderr; rejects if the process ends first. */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray>;
  finished: Promise<Finished>;
}

/** A home without Temporal profiles, so that only the variables a test passes configure anything. */
const EMPTY_HOME = mkdtempSync(path.join(tmpdir(), 'ticksupply-home-'));

/**
 * `command <args>` from the repository root with exactly `env` (plus PATH and an empty HOME),
 * stdin closed and output piped, as in CI or a shell pipeline.
 */
export function startProcess(command: string, args: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: EMPTY_HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const onData = (append: (text: string) => void) => (chunk: string) => {
    append(chunk);
    for (const check of watchers) check();
  };
  child.stdout.setEncoding('utf8').on('data', onData((text) => (stdout += text)));
  child.stderr.setEncoding('utf8').on('data', onData((text) => (stderr += text)));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    finished,
    waitForOutput(pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stdout) ?? pattern.exec(stderr);
          if (match === null) return;
          watchers.delete(check);
          resolve(match);
        };
        watchers.add(check);
        check();
        void finished.then(() => {
          if (!watchers.delete(check)) return;
          reject(new Error(`the process ended without printing ${pattern}:\n${stdout}\n${stderr}`));
        });
      });
    },
  };
}

/** `node <args>`, this very Node.js; see `startProcess`. */
export function startNode(args: readonly string[], env: Record<string, string> = {}): Running {
  return startProcess(process.execPath, args, env);
}

/** Runs `node <args>` to the end; see `startProcess`. */
export function runNode(args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  return startNode(args, env).finished;
}

export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Command lines of running processes that contain `text`. */
export function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !line.startsWith('ps '));
}

/** The lines of `text`, without the empty one after the last newline. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}
