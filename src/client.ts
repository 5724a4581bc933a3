/**
 * Starting `awaitExport` from a Temporal client, with what every caller wants: the export's shared
 * workflow ID, attaching to a wait already running for it, a summary for the Web UI and the
 * default task queue.
 */
import {
  WorkflowIdConflictPolicy,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { DEFAULT_TASK_QUEUE, ExportSearchAttribute, awaitExportWorkflowId, type AwaitExportInput } from './shared';
import type { awaitExport } from './workflows';

export type AwaitExportStartOptions = WorkflowStartOptions<typeof awaitExport>;

/** Start options a caller may override; the arguments always come from the input. */
export type AwaitExportStartOverrides = Partial<Omit<AwaitExportStartOptions, 'args'>>;

/** `temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD`. */
const INDEXED_VALUE_TYPE_KEYWORD = 2;
/** Listing a namespace's search attributes is one quick read; beyond this the server is not answering. */
const LIST_SEARCH_ATTRIBUTES_DEADLINE_MS = 5_000;

/**
 * The options that start (or attach to) the wait for `input.exportId`: workflow ID
 * `await-export-<exportId>`, `USE_EXISTING` on conflict (everyone awaiting one export shares one
 * wait), the task queue {@link DEFAULT_TASK_QUEUE} and the summary the Web UI shows. With
 * `input.searchAttributes`, the export id is set as a search attribute from the start.
 */
export function awaitExportStartOptions(input: AwaitExportInput, overrides: AwaitExportStartOverrides = {}): AwaitExportStartOptions {
  return {
    taskQueue: DEFAULT_TASK_QUEUE,
    workflowId: awaitExportWorkflowId(input.exportId),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `Ticksupply export ${input.exportId}`,
    ...(input.searchAttributes === true
      ? { typedSearchAttributes: [{ key: ExportSearchAttribute.ExportId, value: input.exportId }] }
      : {}),
    ...overrides,
    args: [input],
  };
}

/** Starts the wait for `input.exportId` with {@link awaitExportStartOptions}, or attaches to the running one. */
export function startAwaitExport(
  client: Client,
  input: AwaitExportInput,
  overrides: AwaitExportStartOverrides = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof awaitExport>> {
  return client.workflow.start<typeof awaitExport>('awaitExport', awaitExportStartOptions(input, overrides));
}

/**
 * Whether the client's namespace has both {@link ExportSearchAttribute}s registered as Keyword, so
 * that `searchAttributes: true` is safe. `false` also where the server does not let this client
 * list them: the option then stays off, and the wait works without it.
 */
export async function hasExportSearchAttributes(client: Client): Promise<boolean> {
  try {
    const { customAttributes } = await client.connection.withDeadline(Date.now() + LIST_SEARCH_ATTRIBUTES_DEADLINE_MS, () =>
      client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace }),
    );
    return Object.values(ExportSearchAttribute).every(
      ({ name }) => Number(customAttributes[name]) === INDEXED_VALUE_TYPE_KEYWORD,
    );
  } catch {
    return false;
  }
}
