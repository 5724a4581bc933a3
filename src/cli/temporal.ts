/** Which Temporal the CLI talks to: the configured one, a server on the default port, or its own. */
import { connect as tcpConnect } from 'node:net';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { loadClientConfigProfile, loadClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError, loadConfig, type WorkerConfig } from '../config';
import { BadInputError } from './options';

/** Where `temporal server start-dev` listens unless told otherwise. */
const DEFAULT_ADDRESS = 'localhost:7233';

export type TemporalTarget =
  /** `TEMPORAL_ADDRESS` or a profile names a server; a worker there serves the task queue. */
  | { kind: 'configured'; connectionOptions: ConnectionOptions & { address: string }; namespace: string }
  /** Nothing configured, but a server answers on the default address. */
  | { kind: 'default-port'; connectionOptions: { address: string }; namespace: string }
  /** Nothing anywhere: run a dev server and a worker in this process, with this configuration. */
  | { kind: 'embedded'; worker: WorkerConfig };

/**
 * Decides from the environment, before anything starts.
 * @throws BadInputError for unreadable Temporal configuration, or missing worker configuration in
 *   embedded mode
 */
export async function resolveTemporal(env: NodeJS.ProcessEnv): Promise<TemporalTarget> {
  const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  let configuredAddress: string | undefined;
  try {
    configuredAddress = loadClientConfigProfile({ overrideEnvVars: vars }).address;
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (error) {
    throw new BadInputError(`cannot read the Temporal configuration (TEMPORAL_*, profile): ${firstLine(error)}`);
  }
  const namespace = loaded.namespace ?? 'default';
  if (configuredAddress !== undefined) {
    return { kind: 'configured', connectionOptions: { ...loaded.connectionOptions, address: configuredAddress }, namespace };
  }
  if (await isListening(DEFAULT_ADDRESS)) {
    return { kind: 'default-port', connectionOptions: { address: DEFAULT_ADDRESS }, namespace };
  }
  try {
    return { kind: 'embedded', worker: loadConfig(env) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new BadInputError(
      `no Temporal is configured (TEMPORAL_ADDRESS, profile) and none listens on ${DEFAULT_ADDRESS}, so await-export runs its own worker: ${error.message}`,
    );
  }
}

/** Connects a client to a configured server or one on the default port. */
export async function connectClient(target: Exclude<TemporalTarget, { kind: 'embedded' }>): Promise<Client> {
  try {
    const connection = await Connection.connect(target.connectionOptions);
    return new Client({ connection, namespace: target.namespace });
  } catch (error) {
    throw new Error(`cannot reach Temporal at ${target.connectionOptions.address}: ${firstLine(error)}`, { cause: error });
  }
}

/**
 * Whether any worker polls `taskQueue`, where the wait would otherwise sit still. `undefined` when
 * the server does not say (the client may lack the permission to ask).
 */
export async function hasWorker(client: Client, taskQueue: string): Promise<boolean | undefined> {
  try {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
    });
    return pollers.length > 0;
  } catch {
    return undefined;
  }
}

function isListening(address: string): Promise<boolean> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port: Number(port), timeout: 1_000 });
    const done = (listening: boolean): void => {
      socket.destroy();
      resolve(listening);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n', 1)[0] ?? '';
}
