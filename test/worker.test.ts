/**
 * The worker as operators run it: a real child process configured by environment variables,
 * against the real Temporal dev server and the Ticksupply emulator. Also `loadConfig` on its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CONFIG_ERROR_EXIT_CODE, ConfigError, loadConfig } from '../src/config';
import { freePort } from '../src/dev-server';
import { startEmulator, type Emulator, type ExportScript } from '../src/emulator';
import { awaitExportWorkflowId, DEFAULT_TASK_QUEUE, type AwaitExportResult } from '../src/shared';
import type { awaitExport } from '../src/workflows';
import { createDevServerEnv } from './helpers/temporal';

const REPO_ROOT = path.resolve(__dirname, '..');
/** Distinctive enough that finding it in any output can only mean it leaked. */
const API_KEY = `key_worker_test_${randomUUID().replaceAll('-', '')}.secret`;
const SCRATCH = mkdtempSync(path.join(os.tmpdir(), 'worker-test-'));
/** Keeps the developer's own `~/.config/temporalio/temporal.toml` out of the tests. */
const NO_TEMPORAL_CONFIG_FILE = path.join(SCRATCH, 'absent-temporal.toml');

/** queued, then running on the 2nd poll, succeeded on the 3rd: a wait that sees every status. */
const THREE_POLL_LIFECYCLE: ExportScript['lifecycle'] = [
  { status: 'queued' },
  { status: 'running', afterPolls: 1 },
  { status: 'succeeded', afterPolls: 2 },
];
/** Short intervals so that a test waits about a second; the task queue's budget of about 2.2 polls/s still applies. */
const FAST_CADENCE = { initialInterval: '200ms', maximumInterval: '500ms' } as const;

after(() => rmSync(SCRATCH, { recursive: true, force: true }));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(25);
}

class WorkerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    alive.add(this);
    void this.exited.then(() => alive.delete(this));
  }

  /** stderr parsed as JSON lines; a line that is not JSON fails the test. */
  logs(): Record<string, unknown>[] {
    return this.stderr
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new assert.AssertionError({ message: `worker wrote a line that is not JSON: ${line}` });
        }
      });
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Worker processes still alive when the tests end (a failed assertion), killed by pid. */
const alive = new Set<WorkerProcess>();
after(() => {
  for (const worker of alive) worker.child.kill('SIGKILL');
});

/** The worker from source, as in development: `node --import tsx src/worker.ts`. */
function startWorker(env: Record<string, string>): WorkerProcess {
  return new WorkerProcess(['--import', 'tsx', 'src/worker.ts'], baseEnv(env));
}

/** Only what the test sets, so that the developer's own TEMPORAL_* or TICKSUPPLY_* cannot interfere. */
function baseEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', TEMPORAL_CONFIG_FILE: NO_TEMPORAL_CONFIG_FILE, ...env };
}

describe('loadConfig', () => {
  const env = (vars: Record<string, string>) => ({ TEMPORAL_CONFIG_FILE: NO_TEMPORAL_CONFIG_FILE, ...vars });

  test('applies the documented defaults', () => {
    const config = loadConfig(env({ TICKSUPPLY_API_KEY: API_KEY }));
    assert.deepEqual(
      { ...config, temporal: { address: config.temporal.connectionOptions.address, namespace: config.temporal.namespace } },
      {
        ticksupply: { apiKey: API_KEY, baseUrl: 'https://api.ticksupply.com' },
        temporal: { address: 'localhost:7233', namespace: 'default' },
        taskQueue: DEFAULT_TASK_QUEUE,
        logLevel: 'INFO',
        metricsBindAddress: undefined,
        workflowBundlePath: undefined,
        budget: { perMinute: 200, perHour: 10_000, share: 0.8 },
      },
    );
  });

  test('reads every variable; an empty one counts as unset', () => {
    const bundle = path.join(SCRATCH, 'bundle.js');
    writeFileSync(bundle, '');
    const config = loadConfig(
      env({
        TICKSUPPLY_API_KEY: API_KEY,
        TICKSUPPLY_BASE_URL: 'http://127.0.0.1:8080/proxy',
        TICKSUPPLY_TASK_QUEUE: 'exports-eu',
        TICKSUPPLY_LOG_LEVEL: 'debug',
        TICKSUPPLY_METRICS_PORT: '9464',
        TICKSUPPLY_METRICS_HOST: '::',
        TICKSUPPLY_WORKFLOW_BUNDLE: path.relative(process.cwd(), bundle),
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_NAMESPACE: 'exports',
        TEMPORAL_API_KEY: '',
      }),
    );
    assert.deepEqual(config.ticksupply, { apiKey: API_KEY, baseUrl: 'http://127.0.0.1:8080/proxy' });
    assert.equal(config.taskQueue, 'exports-eu');
    assert.equal(config.logLevel, 'DEBUG');
    assert.equal(config.metricsBindAddress, '[::]:9464');
    assert.equal(config.workflowBundlePath, bundle);
    assert.equal(config.temporal.connectionOptions.address, 'temporal.internal:7233');
    assert.equal(config.temporal.namespace, 'exports');
    assert.equal(config.temporal.connectionOptions.apiKey, undefined);
  });

  test('takes the Temporal connection from a profile of the config file, with TLS for an API key', () => {
    const file = path.join(SCRATCH, 'temporal.toml');
    writeFileSync(file, '[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\nnamespace = "ns.acct"\napi_key = "tk_cloud"\n');
    const config = loadConfig({ TICKSUPPLY_API_KEY: API_KEY, TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    assert.equal(config.temporal.connectionOptions.address, 'ns.acct.tmprl.cloud:7233');
    assert.equal(config.temporal.namespace, 'ns.acct');
    assert.equal(config.temporal.connectionOptions.apiKey, 'tk_cloud');
    assert.equal(config.temporal.connectionOptions.tls, true);
  });

  for (const [vars, message] of [
    [{}, 'invalid configuration: TICKSUPPLY_API_KEY is required (the Ticksupply API key)'],
    [{ TICKSUPPLY_API_KEY: 'two words' }, 'invalid configuration: TICKSUPPLY_API_KEY must not contain whitespace'],
    [
      { TICKSUPPLY_API_KEY: API_KEY, TICKSUPPLY_BASE_URL: 'https://api.ticksupply.com/v1' },
      'invalid configuration: TICKSUPPLY_BASE_URL must not end in a version segment such as /v1: the client adds it',
    ],
    [
      { TICKSUPPLY_API_KEY: API_KEY, TICKSUPPLY_METRICS_PORT: '70000', TICKSUPPLY_LOG_LEVEL: 'verbose' },
      'invalid configuration: TICKSUPPLY_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR; TICKSUPPLY_METRICS_PORT must be a port number, 1-65535',
    ],
    [
      { TICKSUPPLY_API_KEY: API_KEY, TICKSUPPLY_METRICS_PORT: '9464', TICKSUPPLY_METRICS_HOST: 'localhost' },
      'invalid configuration: TICKSUPPLY_METRICS_HOST must be an IPv4 or IPv6 address, such as 127.0.0.1 or 0.0.0.0',
    ],
    [
      { TICKSUPPLY_API_KEY: API_KEY, TICKSUPPLY_WORKFLOW_BUNDLE: path.join(SCRATCH, 'missing.js') },
      'invalid configuration: TICKSUPPLY_WORKFLOW_BUNDLE names no file (build one with npm run build)',
    ],
    [
      { TICKSUPPLY_API_KEY: API_KEY, TEMPORAL_ADDRESS: 'localhost' },
      "invalid configuration: TEMPORAL_ADDRESS (or the profile's address) must be host:port, such as localhost:7233",
    ],
    [
      { TICKSUPPLY_API_KEY: API_KEY, TEMPORAL_PROFILE: 'staging' },
      "invalid configuration: Temporal client configuration (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, TEMPORAL_TLS_*): Profile 'staging' not found in config data",
    ],
  ] as const) {
    test(message.replace('invalid configuration: ', 'refuses: '), () => {
      assert.throws(() => loadConfig(env(vars)), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

describe('worker process', { timeout: 240_000 }, () => {
  let env: TestWorkflowEnvironment;
  let emulator: Emulator;

  before(async () => {
    [env, emulator] = await Promise.all([createDevServerEnv(), startEmulator({ apiKey: API_KEY })]);
  });
  after(async () => {
    await Promise.all([env?.teardown(), emulator?.close()]);
  });

  /** Everything a worker needs to serve `taskQueue` against this suite's servers. */
  function workerEnv(taskQueue: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      TICKSUPPLY_API_KEY: API_KEY,
      TICKSUPPLY_BASE_URL: emulator.url,
      TICKSUPPLY_TASK_QUEUE: taskQueue,
      ...extra,
    };
  }

  function startWait(taskQueue: string, exportId: string) {
    return env.client.workflow.start<typeof awaitExport>('awaitExport', {
      taskQueue,
      workflowId: awaitExportWorkflowId(exportId),
      args: [{ exportId, ...FAST_CADENCE }],
    });
  }

  function assertSucceeded(result: AwaitExportResult, exportId: string): void {
    assert.equal(result.job.id, exportId);
    assert.equal(result.job.status, 'succeeded');
    assert.deepEqual(
      result.statusHistory.map((observation) => observation.status),
      ['queued', 'running', 'succeeded'],
    );
    assert.equal(result.polls, emulator.requests.filter((request) => request.exportId === exportId).length);
  }

  test(`without TICKSUPPLY_API_KEY it refuses to start: one line, exit ${CONFIG_ERROR_EXIT_CODE}`, async () => {
    const worker = startWorker({ TEMPORAL_ADDRESS: env.address });
    assert.equal(await worker.exited, CONFIG_ERROR_EXIT_CODE);
    assert.equal(worker.stderr, 'invalid configuration: TICKSUPPLY_API_KEY is required (the Ticksupply API key)\n');
    assert.equal(worker.stdout, '');
  });

  test('a malformed TICKSUPPLY_BASE_URL is named, and the key is not printed', async () => {
    const worker = startWorker(workerEnv('unused', { TICKSUPPLY_BASE_URL: `api.ticksupply.com/${API_KEY}` }));
    assert.equal(await worker.exited, CONFIG_ERROR_EXIT_CODE);
    assert.equal(
      worker.stderr,
      'invalid configuration: TICKSUPPLY_BASE_URL must be an http(s) URL without query or fragment, such as https://api.ticksupply.com\n',
    );
    assert.equal(worker.stdout, '');
  });

  test('from source: runs a wait end to end, serves Prometheus metrics, logs JSON lines without the key, exits 0 on SIGTERM', async () => {
    const taskQueue = `worker-${randomUUID()}`;
    const metricsPort = await freePort();
    const worker = startWorker(
      workerEnv(taskQueue, { TICKSUPPLY_METRICS_PORT: String(metricsPort), TICKSUPPLY_LOG_LEVEL: 'debug' }),
    );
    const exportId = emulator.createExport({ lifecycle: THREE_POLL_LIFECYCLE });

    const result = await (await startWait(taskQueue, exportId)).result();
    assertSucceeded(result, exportId);

    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const metrics = await response.text();
    const completed = new RegExp(`^temporal_workflow_completed\\{[^}]*task_queue="${taskQueue}"[^}]*\\} 1$`, 'm');
    assert.match(metrics, completed);

    assert.equal(await worker.stop(), 0);
    const logs = worker.logs();
    for (const entry of logs) {
      assert.equal(typeof entry['time'], 'string');
      assert.ok(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(entry['level'] as string), JSON.stringify(entry));
    }
    const messages = logs.map((entry) => entry['message']);
    assert.ok(messages.includes('No prebuilt workflow bundle: bundling the workflow code at startup (development mode; `npm run build` prebuilds it)'));
    assert.ok(logs.some((entry) => entry['message'] === 'Export polled' && entry['exportId'] === exportId));
    assert.ok(logs.some((entry) => entry['level'] === 'DEBUG'), 'TICKSUPPLY_LOG_LEVEL=debug lets DEBUG lines through');
    assert.equal(messages.at(-1), 'Export worker stopped');
    assert.equal(worker.stdout, '');
    assert.ok(!worker.stderr.includes(API_KEY), 'the API key appears in the worker output');
  });

  describe('from the production build (npm run build)', () => {
    let build: string;

    before(async () => {
      build = path.join(SCRATCH, 'dist');
      const builder = spawn('bash', ['scripts/build.sh', build], { cwd: REPO_ROOT, env: baseEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      builder.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      builder.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const code = await new Promise((resolve) => builder.on('close', resolve));
      assert.equal(code, 0, `build failed:\n${output}`);
    });

    test('SIGTERM lets an in-flight poll finish and exits 0; the compiled worker then finishes the wait', async () => {
      const taskQueue = `worker-${randomUUID()}`;
      const exportId = emulator.createExport({ lifecycle: THREE_POLL_LIFECYCLE });
      // A slow first answer, so that SIGTERM arrives while the activity is in flight.
      emulator.injectFault({ exportId, delayMs: 2_000 });
      const inFlight = () => emulator.requests.find((request) => request.exportId === exportId);

      const draining = startWorker(workerEnv(taskQueue, { TICKSUPPLY_WORKFLOW_BUNDLE: path.join(build, 'workflow-bundle.js') }));
      const handle = await startWait(taskQueue, exportId);
      await until(() => inFlight() !== undefined || draining.child.exitCode !== null);
      assert.equal(inFlight()?.status, 0, 'the first poll is still unanswered when SIGTERM is sent');
      assert.equal(await draining.stop(), 0);
      assert.equal(inFlight()?.status, 200);
      assert.ok(draining.logs().some((entry) => entry['message'] === 'Using the prebuilt workflow bundle'));

      const events = (await handle.fetchHistory()).events ?? [];
      assert.equal(events.filter((event) => event.activityTaskCompletedEventAttributes).length, 1);
      assert.equal(events.filter((event) => event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes).length, 0);

      // `npm start` is `node dist/worker.js`: compiled JavaScript, bundle found beside it, no tsx.
      const compiled = new WorkerProcess(
        [path.join(build, 'worker.js')],
        baseEnv({ ...workerEnv(taskQueue), NODE_PATH: path.join(REPO_ROOT, 'node_modules') }),
      );
      assertSucceeded(await handle.result(), exportId);
      assert.equal(await compiled.stop(), 0);
      const bundleLog = compiled.logs().find((entry) => entry['message'] === 'Using the prebuilt workflow bundle');
      assert.equal(bundleLog?.['codePath'], path.join(build, 'workflow-bundle.js'));
      assert.ok(!(draining.stderr + compiled.stderr).includes(API_KEY));
    });
  });
});
