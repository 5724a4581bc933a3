/**
 * Replays recorded `awaitExport` histories (test/histories, made by test/histories/record.ts)
 * with today's workflow bundle: a change that would break running waits fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import { DeterminismViolationError } from '@temporalio/workflow';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from './helpers/temporal';
import { historyFromJson } from './histories/history-json';

const { EventType } = temporal.api.enums.v1;

function recorded(name: string) {
  return historyFromJson(readFileSync(path.join(__dirname, 'histories', `${name}.json`), 'utf8'));
}

async function replay(name: string): Promise<void> {
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, recorded(name), `replay-${name}`);
}

for (const [name, ending] of [
  ['succeeded', EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED],
  ['failed', EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED],
  ['timed-out', EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED],
  ['long-wait', EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED],
  ['search-attributes', EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED],
] as const) {
  test(`the recorded ${name} history replays`, async () => {
    assert.equal(recorded(name).events?.at(-1)?.eventType, ending);
    await replay(name);
  });
}

test('the search-attributes history marks its patch, upserts the export id, then each status it saw', () => {
  const upserted = (recorded('search-attributes').events ?? [])
    .flatMap((e) => Object.entries(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}))
    .map(([name, payload]) => `${name}=${String(defaultPayloadConverter.fromPayload(payload))}`);
  const exportId = /^TicksupplyExportId=(exp_[0-9a-f]{32})$/.exec(upserted[1] ?? '')?.[1];
  assert.deepEqual(upserted, [
    'TemporalChangeVersion=search-attributes',
    `TicksupplyExportId=${exportId}`,
    'TicksupplyExportStatus=queued',
    'TicksupplyExportStatus=running',
    'TicksupplyExportStatus=failed',
  ]);
});

test('a history the code did not make fails replay with a determinism error', async () => {
  await assert.rejects(replay('altered-activity-type'), DeterminismViolationError);
});
