/**
 * The two usual ways to wait for an export on Temporal, as baselines for `awaitExport`. Both
 * return only the final status: the benchmarks read requests and history from the outside.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import { pollDelayMs, resolveCadence } from '../../src/cadence';
import type { ExportStatus, PollCadence } from '../../src/shared';
import type { BaselineActivities } from '../activities';

/** As in `awaitExport`: above the client's 10 s HTTP timeout. */
const ATTEMPT_TIMEOUT = '30s';
/** Workflow code cannot import the activities module's runtime values. */
const TERMINAL: readonly ExportStatus[] = ['succeeded', 'failed', 'canceled'];

export interface PlainLoopInput extends PollCadence {
  exportId: string;
}

/**
 * Poll, then `sleep`, until terminal: one activity and one timer in history per poll. The intervals
 * follow `awaitExport`'s cadence without jitter (random 0.5 is the centre of the ±jitter spread),
 * so both make about as many requests for the same wait.
 */
export async function plainLoopAwait(input: PlainLoopInput): Promise<ExportStatus> {
  const cadence = resolveCadence(input);
  const { fetchExportJob } = proxyActivities<BaselineActivities>({ startToCloseTimeout: ATTEMPT_TIMEOUT });
  for (let poll = 1; ; poll += 1) {
    const { status } = await fetchExportJob(input.exportId);
    if (TERMINAL.includes(status)) return status;
    await sleep(pollDelayMs(cadence, poll, 0.5));
  }
}

export interface ActivityRetryInput {
  exportId: string;
  /** The fixed delay between polls, in ms. */
  intervalMs: number;
}

/**
 * One activity that fails until the export is terminal, retried by the server at a fixed interval
 * without limit: Temporal's polling sample for infrequent polls.
 */
export async function activityRetryAwait(input: ActivityRetryInput): Promise<ExportStatus> {
  const { fetchTerminalExportJob } = proxyActivities<BaselineActivities>({
    startToCloseTimeout: ATTEMPT_TIMEOUT,
    retry: {
      initialInterval: input.intervalMs,
      maximumInterval: input.intervalMs,
      backoffCoefficient: 1,
      // No maximumAttempts: unlimited, the export's own end stops the retries.
    },
  });
  return (await fetchTerminalExportJob(input.exportId)).status;
}
