/**
 * Records the histories test/replay.test.ts replays: real waits on the time-skipping server
 * against the emulator. Run it again after a deliberate change to `awaitExport` (and commit the
 * JSON) — only then, since replaying the old histories is what proves a change is safe. Names
 * record only those histories (a new one, say), keeping the others as older code wrote them:
 *
 *   node --import tsx test/histories/record.ts [name...]
 *
 * Recording `succeeded` also writes `altered-activity-type.json`: that history with its first
 * activity's type renamed, as if the code had scheduled a different activity, which replay must
 * reject.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { startExportWaits, type ExportWaits } from '../helpers/export-waits';
import { ExportSearchAttribute, pollNowSignal, refreshStatusUpdate, type AwaitExportInput } from '../../src/shared';
import { awaitExport } from '../../src/workflows';
import { historyToJson } from './history-json';

const { IndexedValueType } = temporal.api.enums.v1;

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** Runs one wait to its end, `during` driving it from outside, and returns its history. */
async function record(
  waits: ExportWaits,
  input: Omit<AwaitExportInput, 'exportId'>,
  lifecycle: Parameters<ExportWaits['emulator']['createExport']>[0],
  during: (handle: WorkflowHandle<typeof awaitExport>, exportId: string) => Promise<void> = async () => {},
): Promise<History> {
  const exportId = waits.emulator.createExport(lifecycle);
  return waits.withWorker(async (taskQueue) => {
    const handle = await waits.env.client.workflow.start(awaitExport, {
      taskQueue,
      workflowId: `recorded-${exportId}`,
      args: [{ exportId, ...input }],
    });
    await during(handle, exportId);
    await handle.result().catch(() => undefined);
    return handle.fetchHistory();
  });
}

function write(name: string, history: History): void {
  const file = path.join(__dirname, `${name}.json`);
  writeFileSync(file, historyToJson(history));
  console.log(`${path.relative(process.cwd(), file)}: ${history.events?.length ?? 0} events`);
}

/** Every recorded history by name, and how to make it. */
const recordings: Record<string, (waits: ExportWaits) => Promise<History>> = {
  succeeded: (waits) =>
    record(waits, {}, {
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 2 }, { status: 'succeeded', afterPolls: 4 }],
    }),
  failed: (waits) =>
    record(waits, {}, {
      lifecycle: [{ status: 'queued' }, { status: 'failed', afterPolls: 1, reason: 'no data in the requested range' }],
    }),
  'timed-out': (waits) => record(waits, { timeout: '10m' }, { lifecycle: [{ status: 'queued' }] }),
  // Three days with a poll-now signal and a refreshStatus update on the way.
  'long-wait': (waits) =>
    record(waits, { maximumInterval: '30m' }, { lifecycle: [{ status: 'queued' }] }, async (handle, exportId) => {
      await waits.env.sleep('1d');
      await handle.signal(pollNowSignal);
      await waits.env.sleep('1h');
      waits.emulator.setStatus(exportId, 'running');
      await handle.executeUpdate(refreshStatusUpdate);
      await waits.env.sleep('2d');
      waits.emulator.setStatus(exportId, 'succeeded');
    }),
  // Search attributes upserted on each status change, up to a failure with its reason.
  'search-attributes': (waits) =>
    record(waits, { searchAttributes: true }, {
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 2 }, { status: 'failed', afterPolls: 4, reason: 'disk quota exceeded' }],
    }),
};

/** `altered-activity-type`: the succeeded history as if the code had scheduled a different activity. */
function altered(succeeded: History): History {
  const scheduled = succeeded.events?.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
  if (!scheduled?.activityType) throw new Error('the succeeded history schedules no activity');
  scheduled.activityType.name = 'getExportJobV2';
  return succeeded;
}

async function main(names: string[]): Promise<void> {
  const unknown = names.filter((name) => !(name in recordings));
  if (unknown.length > 0) throw new Error(`no recording named ${unknown.join(', ')}; known: ${Object.keys(recordings).join(', ')}`);
  const waits = await startExportWaits(createTimeSkippingEnv);
  try {
    // The time-skipping server knows no custom search attributes until told.
    await waits.env.connection.operatorService.addSearchAttributes({
      namespace: waits.env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(Object.values(ExportSearchAttribute).map(({ name }) => [name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    for (const [name, make] of Object.entries(recordings)) {
      if (names.length > 0 && !names.includes(name)) continue;
      const history = await make(waits);
      write(name, history);
      if (name === 'succeeded') write('altered-activity-type', altered(history));
    }
  } finally {
    await waits.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
