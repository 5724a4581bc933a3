/** A pipeline step as a caller would write it: await the export as a child, branch on the failure type. */
import { ApplicationFailure, ChildWorkflowFailure, executeChild } from '@temporalio/workflow';
import { FailureType, type AwaitExportInput } from '../../src/shared';
import { awaitExport } from '../../src/workflows';

export type PipelineOutcome = { exported: string } | { exportFailed: string };

export async function exportPipeline(input: AwaitExportInput): Promise<PipelineOutcome> {
  try {
    const { job } = await executeChild(awaitExport, { args: [input] });
    return { exported: job.id };
  } catch (err) {
    const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === FailureType.ExportFailed) {
      const [details] = cause.details as [{ reason: string }];
      return { exportFailed: details.reason };
    }
    throw err;
  }
}
