/**
 * Activities of the baseline waits the benchmarks compare `awaitExport` with. Bench-only: they
 * use the project's client but none of its error mapping, as the samples they imitate do not.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ExportJob, ExportStatus, TicksupplyClient } from '../src/ticksupply';

export const TERMINAL_STATUSES: readonly ExportStatus[] = ['succeeded', 'failed', 'canceled'];

export function createBaselineActivities(deps: { client: TicksupplyClient }) {
  const fetchJob = async (exportId: string): Promise<ExportJob> =>
    (await deps.client.getExport(exportId, { signal: Context.current().cancellationSignal })).job;
  return {
    /** One poll, whatever the status: the plain loop decides in workflow code. */
    fetchExportJob: fetchJob,
    /**
     * One poll that fails while the export is not terminal, so that the activity's retry policy
     * does the waiting, as in Temporal's polling sample for infrequent polls.
     */
    async fetchTerminalExportJob(exportId: string): Promise<ExportJob> {
      const job = await fetchJob(exportId);
      if (!TERMINAL_STATUSES.includes(job.status)) {
        // Benign: the worker does not log it as a failure, which is all the category changes.
        throw ApplicationFailure.create({
          message: `export ${exportId} is still ${job.status}`,
          type: 'ExportNotDone',
          category: ApplicationFailureCategory.BENIGN,
        });
      }
      return job;
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
