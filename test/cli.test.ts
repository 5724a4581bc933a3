/**
 * `await-export` run as a process, the way a person or a script runs it, against the Ticksupply
 * emulator: on a configured Temporal dev server with a worker, and in embedded mode where it starts
 * its own server and worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { WaitOutcome } from '../src/cli/types';
import type { LifecycleStep } from '../src/emulator';
import { startExportWaits, type ExportWaits } from './helpers/export-waits';
import { REPO_ROOT, isListening, linesOf, processesMentioning, runNode, startNode, startProcess, type Finished } from './helpers/processes';
import { createDevServerEnv } from './helpers/temporal';

const BIN = path.join(REPO_ROOT, 'src', 'cli', 'await-export');
const EMBEDDED_DB = path.join(REPO_ROOT, '.temporal', 'await-export.sqlite');
/** Fast polls keep the tests short; the worker under test has no rate limit of its own. */
const FAST = ['--poll-interval', '100ms', '--max-poll-interval', '200ms'];

const queuedRunningSucceeded: LifecycleStep[] = [
  { status: 'queued' },
  { status: 'running', afterPolls: 1 },
  { status: 'succeeded', afterPolls: 2 },
];

function unknownExportId(): string {
  return `exp_${randomBytes(16).toString('hex')}`;
}

function outcomesOf(run: Finished): WaitOutcome[] {
  return JSON.parse(run.stdout) as WaitOutcome[];
}

function lastLine(text: string): string {
  return linesOf(text).at(-1) ?? '';
}

let waits: ExportWaits;

before(async () => {
  waits = await startExportWaits(createDevServerEnv);
});

after(async () => {
  await waits.close();
});

describe('on a configured Temporal', () => {
  /** The CLI with TEMPORAL_ADDRESS pointing at the test's dev server, polling `taskQueue`. */
  const cli = (taskQueue: string, args: string[]): Promise<Finished> =>
    runNode([BIN, ...args], { TEMPORAL_ADDRESS: waits.env.address, TICKSUPPLY_TASK_QUEUE: taskQueue });

  test('--json prints the result as one JSON document on stdout and exits 0', () =>
    waits.withWorker(async (taskQueue) => {
      const id = waits.emulator.createExport({ lifecycle: queuedRunningSucceeded });
      const run = await cli(taskQueue, ['--json', ...FAST, id]);

      assert.equal(run.code, 0, run.stderr);
      const [outcome, ...others] = outcomesOf(run);
      assert.deepEqual(others, []);
      assert.ok(outcome?.ok, run.stdout);
      assert.equal(outcome.exportId, id);
      assert.equal(outcome.workflowId, `await-export-${id}`);
      assert.equal(outcome.result.job.id, id);
      assert.equal(outcome.result.job.status, 'succeeded');
      assert.equal(outcome.result.job.start_time, '1704067200123456789');
      assert.equal(outcome.result.polls, 3);
      assert.equal(waits.requestsFor(id).length, 3);
      assert.deepEqual(
        outcome.result.statusHistory.map((step) => step.status),
        ['queued', 'running', 'succeeded'],
      );
    }));

  test('piped, progress is plain lines through queued and running; the summary goes to stdout', () =>
    waits.withWorker(async (taskQueue) => {
      // The test moves the export on once the CLI has shown each status.
      const id = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }] });
      const cli = startNode([BIN, ...FAST, id], { TEMPORAL_ADDRESS: waits.env.address, TICKSUPPLY_TASK_QUEUE: taskQueue });
      await cli.waitForOutput(new RegExp(`^${id} queued for \\S+ · \\d+ polls? · `, 'm'));
      waits.emulator.setStatus(id, 'running');
      await cli.waitForOutput(new RegExp(`^${id} running for \\S+ · \\d+ polls? · `, 'm'));
      waits.emulator.setStatus(id, 'succeeded');
      const run = await cli.finished;

      assert.equal(run.code, 0, run.stderr);
      assert.ok(!run.stderr.includes('\r') && !run.stderr.includes('\u001b'), 'no terminal control characters when piped');
      const progress = linesOf(run.stderr).filter((line) => line.startsWith(`${id} `));
      assert.match(progress.at(-1) ?? '', new RegExp(`^${id} succeeded · \\d+ polls in \\S+$`));
      assert.equal(new Set(progress).size, progress.length, 'a line only when something changed');
      assert.match(
        run.stdout,
        new RegExp(
          `^Export ${id} succeeded after \\S+ and \\d+ polls\n` +
            '  datastream 42, csv, 2024-01-01T00:00:00.123456789Z to 2024-01-01T01:00:00.987654321Z\n' +
            '  queued \\S+ -> running \\S+ -> succeeded \\S+\n',
        ),
      );
    }));

  const failures: { name: string; lifecycle: LifecycleStep[] | undefined; code: number; line: (id: string) => RegExp }[] = [
    {
      name: 'a failed export exits 3',
      lifecycle: [{ status: 'queued' }, { status: 'failed', afterPolls: 1, reason: 'disk quota exceeded' }],
      code: 3,
      line: (id) => new RegExp(`^ExportFailed: export ${id} failed: disk quota exceeded \\(request req_[0-9a-f]{16}\\)$`),
    },
    {
      name: 'a canceled export exits 4',
      lifecycle: [{ status: 'queued' }, { status: 'canceled', afterPolls: 1 }],
      code: 4,
      line: (id) => new RegExp(`^ExportCanceled: export ${id} was canceled`),
    },
    {
      name: 'an export the API does not know exits 6',
      lifecycle: undefined,
      code: 6,
      line: (id) => new RegExp(`^ExportNotFound: .*${id}.*404`),
    },
  ];
  for (const { name, lifecycle, code, line } of failures) {
    test(`${name}, with the failure type and reason on one stderr line`, () =>
      waits.withWorker(async (taskQueue) => {
        const id = lifecycle === undefined ? unknownExportId() : waits.emulator.createExport({ lifecycle });
        const run = await cli(taskQueue, [...FAST, id]);

        assert.equal(run.code, code, run.stderr);
        assert.equal(run.stdout, '');
        assert.match(lastLine(run.stderr), line(id));
      }));
  }

  test('--json reports a failure with its type and details', () =>
    waits.withWorker(async (taskQueue) => {
      const id = waits.emulator.createExport({ lifecycle: [{ status: 'failed', reason: 'no data in range' }] });
      const run = await cli(taskQueue, ['--json', ...FAST, id]);

      assert.equal(run.code, 3, run.stderr);
      const [outcome] = outcomesOf(run);
      assert.ok(outcome !== undefined && !outcome.ok, run.stdout);
      assert.equal(outcome.exitCode, 3);
      assert.equal(outcome.failure.type, 'ExportFailed');
      assert.match(outcome.failure.message, new RegExp(`^export ${id} failed: no data in range \\(request req_[0-9a-f]{16}\\)$`));
      assert.deepEqual((outcome.failure.details as { exportId: string; reason: string }).reason, 'no data in range');
      assert.equal(lastLine(run.stderr), `ExportFailed: ${outcome.failure.message}`);
    }));

  test('--timeout ends a wait that outlasts it with exit 5', () =>
    waits.withWorker(async (taskQueue) => {
      const id = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }] });
      const run = await cli(taskQueue, ['--timeout', '2s', ...FAST, id]);

      assert.equal(run.code, 5, run.stderr);
      assert.match(lastLine(run.stderr), new RegExp(`^ExportTimedOut: export ${id} .*deadline.* while still queued`));
    }));

  test('with several ids, the exit code is that of the first one that did not succeed', () =>
    waits.withWorker(async (taskQueue) => {
      const succeeding = waits.emulator.createExport({ lifecycle: queuedRunningSucceeded });
      const canceled = waits.emulator.createExport({ lifecycle: [{ status: 'canceled' }] });
      const failed = waits.emulator.createExport({ lifecycle: [{ status: 'failed', reason: 'boom' }] });
      const run = await cli(taskQueue, [...FAST, succeeding, canceled, failed]);

      assert.equal(run.code, 4, run.stderr);
      assert.match(run.stdout, new RegExp(`^Export ${succeeding} succeeded`));
      const failureLines = linesOf(run.stderr).filter((line) => /^Export(Canceled|Failed): /.test(line));
      assert.equal(failureLines.length, 2, run.stderr);
      assert.match(failureLines[0] ?? '', new RegExp(`^ExportCanceled: export ${canceled} `));
      assert.match(failureLines[1] ?? '', new RegExp(`^ExportFailed: export ${failed} failed: boom \\(request req_[0-9a-f]{16}\\)$`));
    }));

  test('--no-wait prints the workflow id; a later run attaches to the same wait', () =>
    waits.withWorker(async (taskQueue) => {
      const id = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }] });
      const env = { TEMPORAL_ADDRESS: waits.env.address, TICKSUPPLY_TASK_QUEUE: taskQueue };
      const started = await runNode([BIN, '--no-wait', ...FAST, id], env);
      assert.equal(started.code, 0, started.stderr);
      assert.equal(started.stdout, `await-export-${id}\n`);
      const { runId } = await waits.env.client.workflow.getHandle(`await-export-${id}`).describe();

      const attached = startNode([BIN, '--json', id], env);
      await attached.waitForOutput(new RegExp(`^${id} queued `, 'm'));
      waits.emulator.setStatus(id, 'succeeded');
      const run = await attached.finished;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(outcomesOf(run)[0]?.ok, true);
      const runs = [];
      for await (const execution of waits.env.client.workflow.list({ query: `WorkflowId = 'await-export-${id}'` })) runs.push(execution.runId);
      assert.deepEqual(runs, [runId]);
    }));

  test('a malformed id exits 2 with one line, before connecting to anything', async () => {
    const run = await runNode([BIN, 'exp_NOT-AN-ID'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });

    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, "error: 'exp_NOT-AN-ID' is not an export id: expected exp_ followed by 32 lowercase hex characters\n");
  });

  test('a malformed flag exits 2 with one line', async () => {
    const run = await runNode([BIN, '--timeout', '30', unknownExportId()], { TEMPORAL_ADDRESS: '127.0.0.1:1' });

    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      "error: option '--timeout <duration>' argument '30' is invalid. expected a positive duration with a unit, such as 500ms, 30s, 5m, 2h or 7d.\n",
    );
  });
});

describe('embedded mode (no Temporal configured, none on localhost:7233)', () => {
  before(async () => {
    assert.equal(await isListening(7233), false, 'these tests need localhost:7233 to be free');
  });

  const embeddedEnv = (): Record<string, string> => ({ TICKSUPPLY_API_KEY: waits.emulator.apiKey, TICKSUPPLY_BASE_URL: waits.emulator.url });

  test('without TICKSUPPLY_API_KEY it exits 2 with one line and starts nothing', async () => {
    const run = await runNode([BIN, unknownExportId()], { TICKSUPPLY_BASE_URL: waits.emulator.url });

    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'error: no Temporal is configured (TEMPORAL_ADDRESS, profile) and none listens on localhost:7233, so await-export runs its own worker: ' +
        'invalid configuration: TICKSUPPLY_API_KEY is required (the Ticksupply API key)\n',
    );
  });

  test('it starts its own server and worker, waits, and leaves no process or port behind', async () => {
    const id = waits.emulator.createExport({ lifecycle: queuedRunningSucceeded });
    const run = await runNode([BIN, '--json', ...FAST, id], embeddedEnv());

    assert.equal(run.code, 0, run.stderr);
    const [outcome] = outcomesOf(run);
    assert.ok(outcome?.ok, run.stdout);
    assert.equal(outcome.result.job.status, 'succeeded');
    const uiPort = Number(/^Temporal Web UI: http:\/\/localhost:(\d+)$/m.exec(run.stderr)?.[1]);
    assert.match(run.stderr, new RegExp(`^${id} in the Web UI: http://localhost:${uiPort}/namespaces/default/workflows/await-export-${id}$`, 'm'));
    assert.equal(await isListening(uiPort), false);
    assert.deepEqual(processesMentioning(EMBEDDED_DB), []);
    assert.equal(existsSync(`${EMBEDDED_DB}.lock`), false);
  });

  test('Ctrl-C exits 130 and stops everything; the next run resumes the same wait', async () => {
    const id = waits.emulator.createExport({ lifecycle: [{ status: 'queued' }] });
    const first = startNode([BIN, ...FAST, id], embeddedEnv());
    await first.waitForOutput(new RegExp(`^${id} queued `, 'm'));
    first.child.kill('SIGINT');
    const interrupted = await first.finished;
    const interruptedAt = new Date().toISOString();
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.equal(lastLine(interrupted.stderr), 'Interrupted: the waits are kept in Temporal; run the same command again to attach to them.');
    assert.deepEqual(processesMentioning(EMBEDDED_DB), []);

    const second = startNode([BIN, '--json', id], embeddedEnv());
    await second.waitForOutput(new RegExp(`^${id} queued `, 'm'));
    waits.emulator.setStatus(id, 'succeeded');
    const resumed = await second.finished;
    assert.equal(resumed.code, 0, resumed.stderr);
    const [outcome] = outcomesOf(resumed);
    assert.ok(outcome?.ok, resumed.stdout);
    const [queued, succeeded, ...more] = outcome.result.statusHistory;
    assert.deepEqual(more, []);
    assert.equal(queued?.status, 'queued');
    assert.ok(queued.at < interruptedAt, 'queued was seen by the wait before the interrupt');
    assert.equal(succeeded?.status, 'succeeded');
  });
});

test('npx await-export --help explains the command, its configuration and exit codes', async () => {
  const run = await startProcess('npx', ['--no', '--', 'await-export', '--help']).finished;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: await-export \[options\] <exportId\.\.\.>/);
  for (const text of ['--no-wait', '--timeout <duration>', '--poll-interval <duration>', 'TICKSUPPLY_API_KEY', 'Examples:', '  6    the export does not exist']) {
    assert.ok(run.stdout.includes(text), `help mentions ${text}`);
  }
});
