/**
 * `npm run demo` (after its set-up step) run as a process: what a newcomer sees, and that it cleans
 * up after itself, on success, on failure and on Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, isListening, linesOf, processesMentioning, startNode, type Finished } from './helpers/processes';

const DEMO = ['--import', 'tsx', path.join('src', 'demo.ts')];
const DEMO_DB = path.join(REPO_ROOT, '.temporal', 'dev.sqlite');
const EXPORT_ID = 'exp_[0-9a-f]{32}';

/** The three ports the demo printed: dev server gRPC, Web UI, emulator. */
function portsOf(run: Finished): number[] {
  const servers = new RegExp(
    '^ {2}Temporal dev server {3}127\\.0\\.0\\.1:(\\d+) {3}Web UI http://localhost:(\\d+)\\n' +
      ' {2}Ticksupply emulator {3}http://127\\.0\\.0\\.1:(\\d+) ',
    'm',
  ).exec(run.stdout);
  assert.ok(servers, run.stdout);
  return servers.slice(1).map(Number);
}

async function assertNothingLeftBehind(run: Finished): Promise<void> {
  for (const port of portsOf(run)) assert.equal(await isListening(port), false, `port ${port} is closed`);
  assert.deepEqual(processesMentioning(DEMO_DB), []);
  assert.equal(existsSync(`${DEMO_DB}.lock`), false);
}

test('the demo waits for an export through queued and running, prints the result and the UI link, and cleans up', async () => {
  const run = await startNode(DEMO).finished;

  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const progress = linesOf(run.stdout).filter((line) => new RegExp(`^${EXPORT_ID} `).test(line));
  assert.ok(progress.some((line) => / queued for /.test(line)), run.stdout);
  assert.ok(progress.some((line) => / running for /.test(line)), run.stdout);
  assert.match(progress.at(-1) ?? '', new RegExp(`^${EXPORT_ID} succeeded · \\d+ polls in \\S+$`));

  const result = /^The typed result \(AwaitExportResult\):\n(\{\n[^]*?\n\})\n/m.exec(run.stdout);
  assert.ok(result?.[1], run.stdout);
  const { job, statusHistory } = JSON.parse(result[1]) as { job: { id: string; status: string }; statusHistory: { status: string }[] };
  assert.equal(job.status, 'succeeded');
  assert.deepEqual(
    statusHistory.map((step) => step.status),
    ['queued', 'running', 'succeeded'],
  );
  const [, uiPort] = portsOf(run);
  assert.ok(
    run.stdout.endsWith(`The wait in the Temporal Web UI: http://localhost:${uiPort}/namespaces/default/workflows/await-export-${job.id}\n`),
    run.stdout,
  );
  await assertNothingLeftBehind(run);
});

test('npm run demo -- --fail exits 3 with the failure and its reason on one line', async () => {
  const run = await startNode([...DEMO, '--fail']).finished;

  assert.equal(run.code, 3, run.stderr);
  assert.match(
    run.stderr,
    new RegExp(`^ExportFailed: export ${EXPORT_ID} failed: datastream 42 has no data between 2024-01-01T00:00Z and 01:00Z \\(subscription paused\\) \\(request req_[0-9a-f]{16}\\)\\n$`),
  );
  assert.match(run.stdout, /The wait in the Temporal Web UI: http:\/\/localhost:\d+\/namespaces\/default\/workflows\/await-export-exp_/);
  await assertNothingLeftBehind(run);
});

test('Ctrl-C during the wait terminates it, exits 130 and cleans up', async () => {
  const demo = startNode(DEMO);
  await demo.waitForOutput(new RegExp(`^${EXPORT_ID} queued for `, 'm'));
  demo.child.kill('SIGINT');
  const run = await demo.finished;

  assert.equal(run.code, 130, run.stderr);
  assert.equal(linesOf(run.stdout).at(-1), 'Interrupted: the wait is terminated; shutting down.');
  await assertNothingLeftBehind(run);
});
