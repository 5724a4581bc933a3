/**
 * The embedded Temporal dev server of the demo and of the CLI's embedded mode: the installed
 * `temporal server start-dev` as a child process with a SQLite file under the git-ignored
 * `.temporal/`, free ports, and the project's search attributes registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { TEMPORAL_CLI, requireBinary } from './local-temporal';

const REPO_ROOT = path.resolve(__dirname, '..');

/** Where the demo keeps its history between runs. */
export const DEFAULT_DB_FILENAME = path.join(REPO_ROOT, '.temporal', 'dev.sqlite');

export interface DevServerOptions {
  /** SQLite file holding the server's state across runs. @default `.temporal/dev.sqlite` */
  dbFilename?: string;
  /** How long to wait for the server to answer after starting it, in ms. @default 30 000 */
  startTimeoutMs?: number;
  /** Aborting it during start-up stops the server and rejects. */
  signal?: AbortSignal;
}

export interface DevServer {
  /** `host:port` of the gRPC frontend. */
  readonly address: string;
  /** Namespace the dev server creates at start. */
  readonly namespace: string;
  /** e.g. `http://localhost:41234`. */
  readonly uiUrl: string;
  /** Where the server writes its own output (startup errors, warnings). */
  readonly logFile: string;
  /** The Web UI page of one workflow. */
  workflowUrl(workflowId: string): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** A clean shutdown of the dev server takes about a second; beyond this it is killed. */
const STOP_GRACE_MS = 10_000;
const NAMESPACE = 'default';

/** Children still running, killed synchronously if this process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const binary = requireBinary(TEMPORAL_CLI);
  const dbFilename = path.resolve(options.dbFilename ?? DEFAULT_DB_FILENAME);
  const logFile = dbFilename.replace(/\.sqlite$/, '') + '.log';
  mkdirSync(path.dirname(dbFilename), { recursive: true });
  const lock = lockDatabase(dbFilename);
  try {
    const [port, uiPort] = await freePorts(2);
    const address = `127.0.0.1:${port}`;
    const log = openSync(logFile, 'w');
    // Its own process group: a Ctrl-C reaches only this process, which stops the worker before
    // the server instead of both dying at once.
    const child = spawn(
      binary,
      [
        'server', 'start-dev',
        '--db-filename', dbFilename,
        '--ip', '127.0.0.1',
        '--port', String(port),
        '--ui-port', String(uiPort),
        '--search-attribute', 'TicksupplyExportId=Keyword',
        '--search-attribute', 'TicksupplyExportStatus=Keyword',
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', log, log], detached: true },
    );
    closeSync(log);
    if (child.pid !== undefined) lock.noteServer(child.pid);
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => running.delete(child));

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(killer);
        }
        lock.release();
      })();
      return stopping;
    };

    try {
      await waitUntilServing(address, exited, options.startTimeoutMs ?? 30_000, logFile, options.signal);
    } catch (err) {
      await stop();
      throw err;
    }
    const uiUrl = `http://localhost:${uiPort}`;
    return {
      address,
      namespace: NAMESPACE,
      uiUrl,
      logFile,
      workflowUrl: (workflowId) => `${uiUrl}/namespaces/${NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`,
      stop,
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** Ports free on 127.0.0.1 right now, all distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** One port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/**
 * Two servers on one SQLite file corrupt each other's state, so the file is taken with a lock
 * naming this process and, once started, the server. A lock whose processes are all gone is taken
 * over; one whose server outlived its parent (killed with SIGKILL) is reported with the server's pid.
 */
function lockDatabase(dbFilename: string): { noteServer(pid: number): void; release(): void } {
  const lockFile = `${dbFilename}.lock`;
  for (;;) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holders = readFileSync(lockFile, 'utf8').split(' ').map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
    const alive = holders.filter(isAlive);
    if (alive.length > 0) {
      throw new Error(
        `the embedded Temporal database ${path.relative(process.cwd(), dbFilename)} is in use by process ${alive.join(' and ')} ` +
          '(another demo or await-export): let it finish, or end it',
      );
    }
    unlinkSync(lockFile);
  }
  let released = false;
  return {
    noteServer: (pid) => writeFileSync(lockFile, `${process.pid} ${pid}`),
    release: () => {
      if (released) return;
      released = true;
      unlinkSync(lockFile);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves once the frontend answers for the namespace; throws if the process ends or time runs out. */
async function waitUntilServing(
  address: string,
  exited: Promise<void>,
  timeoutMs: number,
  logFile: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  for (;;) {
    signal?.throwIfAborted();
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.withDeadline(Date.now() + 1_000, () =>
          connection.workflowService.describeNamespace({ namespace: NAMESPACE }),
        );
        return;
      } finally {
        await connection.close();
      }
    } catch {
      // Not serving yet.
    }
    if (hasExited) throw new Error(`the Temporal dev server exited at start: ${lastLine(logFile)}`);
    if (Date.now() > deadline) {
      throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs} ms (see ${logFile})`);
    }
    await sleep(100);
  }
}

function lastLine(file: string): string {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return lines[lines.length - 1] || `no output (see ${file})`;
}
