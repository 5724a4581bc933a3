/**
 * History ⇄ the JSON that Temporal's CLI and Web UI export.
 *
 * The SDK's own `historyToJSON` / `historyFromJSON` (and so `Worker.runReplayHistory` given parsed
 * JSON) throw "type must be a Type" with this install: npm put protobufjs 8 twice, under
 * @temporalio/common and under @temporalio/proto (@grpc/proto-loader holds the top level with 7.x),
 * and protojson only accepts types built by its own copy. Loading protojson from where
 * @temporalio/proto resolves it pairs it with the copy that built the history types, so this keeps
 * working once protobufjs 8 is deduplicated.
 */
import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.History;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType: unknown = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

export function historyToJson(history: proto.temporal.api.history.v1.IHistory): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return `${JSON.stringify(protojson.toJson(historyType, message), null, 2)}\n`;
}

export function historyFromJson(text: string): History {
  // Fields a newer server adds are not a reason to refuse a history.
  return protojson.fromJson(historyType, JSON.parse(text), { ignoreUnknownFields: true }) as History;
}
