/**
 * History ⇄ the JSON that Temporal's CLI and Web UI export, through the SDK's own converter.
 * (It needs one protobufjs 8 in the tree: package.json pins it so that npm deduplicates it.)
 */
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';

export function historyToJson(history: History): string {
  return `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`;
}

export function historyFromJson(text: string): History {
  return historyFromJSON(JSON.parse(text));
}
