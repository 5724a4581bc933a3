/**
 * Records the histories test/replay.test.ts replays: real waits on the time-skipping server
 * against the emulator. Run it again after a deliberate change to `awaitExport` (and commit the
 * JSON) — only then, since replaying the old histories is what proves a change is safe:
 *
 *   node --import tsx test/histories/record.ts
 *
 * It also writes `altered-activity-type.json`: the succeeded history with its first activity's
 * type renamed, as if the code had scheduled a different activity, which replay must reject.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { startExportWaits, type ExportWaits } from '../helpers/export-waits';
import { pollNowSignal, refreshStatusUpdate, type AwaitExportInput } from '../../src/shared';
import { awaitExport } from '../../src/workflows';
import { historyToJson } from './history-json';

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

async function main(): Promise<void> {
  const waits = await startExportWaits(createTimeSkippingEnv);
  try {
    const { env, emulator } = waits;
    const succeeded = await record(waits, {}, {
      lifecycle: [{ status: 'queued' }, { status: 'running', afterPolls: 2 }, { status: 'succeeded', afterPolls: 4 }],
    });
    write('succeeded', succeeded);
    write(
      'failed',
      await record(waits, {}, {
        lifecycle: [{ status: 'queued' }, { status: 'failed', afterPolls: 1, reason: 'no data in the requested range' }],
      }),
    );
    write('timed-out', await record(waits, { timeout: '10m' }, { lifecycle: [{ status: 'queued' }] }));
    // Three days with a poll-now signal and a refreshStatus update on the way.
    write(
      'long-wait',
      await record(waits, { maximumInterval: '30m' }, { lifecycle: [{ status: 'queued' }] }, async (handle, exportId) => {
        await env.sleep('1d');
        await handle.signal(pollNowSignal);
        await env.sleep('1h');
        emulator.setStatus(exportId, 'running');
        await handle.executeUpdate(refreshStatusUpdate);
        await env.sleep('2d');
        emulator.setStatus(exportId, 'succeeded');
      }),
    );

    const scheduled = succeeded.events?.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
    if (!scheduled?.activityType) throw new Error('the succeeded history schedules no activity');
    scheduled.activityType.name = 'getExportJobV2';
    write('altered-activity-type', succeeded);
  } finally {
    await waits.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
