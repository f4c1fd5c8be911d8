// The API client for the Electron window: the preload exposes one named function per method
// (never a generic invoke; RELIABILITY A6), and the main process answers with the handler's
// envelope so errors keep their code and details (a thrown error over IPC would lose them).
// The bridge type lives here, Electron-free, so both the preload and the renderer import it.
import { METHOD_NAMES } from '../../../../electron/common/api.ts';
import type { MethodInput, MethodName, MethodOutput, StudioEvent } from '../../../../electron/common/api.ts';
import { ApiError } from '../../../../electron/common/errors.ts';
import type { ApiErrorData } from '../../../../electron/common/errors.ts';
import type { ConnectionState, StudioClient } from './ws-client.ts';

/** What main returns for every call (the api-handler's result). */
export type BridgeResult<T = unknown> = { ok: true; output: T } | { ok: false; error: ApiErrorData };

/** `datasets.list` → `datasetsList` */
export type BridgeFunctionName<M extends string> = M extends `${infer Head}.${infer Tail}` ? `${Head}${Capitalize<BridgeFunctionName<Tail>>}` : M;

export type PreloadBridge = {
  readonly [M in MethodName as BridgeFunctionName<M>]: (input: MethodInput<M>) => Promise<BridgeResult<MethodOutput<M>>>;
} & {
  /** returns an unsubscribe function */
  readonly onEvent: (listener: (event: StudioEvent) => void) => () => void;
  /** the absolute path of a file or folder dropped on the page (Electron's webUtils.getPathForFile); '' when it has none */
  readonly pathForFile: (file: File) => string;
  /** the system's open dialog in main: a folder, or a zip / IDX / CIFAR / .npy file; null when cancelled */
  readonly pickImportSource: (what: ImportSourceKind) => Promise<BridgeResult<{ path: string } | null>>;
};

/** What the open dialog picks: Linux and Windows cannot offer folders and files in one dialog. */
export type ImportSourceKind = 'folder' | 'file';
/** The one IPC channel of the shell (not an API method): the open dialog for an import source. */
export const PICK_IMPORT_SOURCE_CHANNEL = 'shell:pickImportSource';

/** The IPC channel of a method; main registers one handler per channel. */
export const ipcChannel = (method: MethodName): `api:${MethodName}` => `api:${method}`;
export const EVENT_CHANNEL = 'api:event';

export function bridgeFunctionName<M extends MethodName>(method: M): BridgeFunctionName<M> {
  return method.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase()) as BridgeFunctionName<M>;
}

/** Every function name the bridge must expose, and nothing else. */
export const BRIDGE_FUNCTION_NAMES: readonly string[] = Object.freeze([...METHOD_NAMES.map((m) => bridgeFunctionName(m)), 'onEvent', 'pathForFile', 'pickImportSource']);

/** `window.ganStudio` when the preload ran, else undefined. */
export function findPreloadBridge(): PreloadBridge | undefined {
  const candidate = (globalThis as { ganStudio?: unknown }).ganStudio;
  return candidate && typeof candidate === 'object' && typeof (candidate as { onEvent?: unknown }).onEvent === 'function' ? (candidate as PreloadBridge) : undefined;
}

export function createIpcClient(bridge: PreloadBridge): StudioClient {
  const functions = bridge as unknown as Record<string, ((input: unknown) => Promise<BridgeResult>) | undefined>;
  return {
    async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      const fn = Object.prototype.hasOwnProperty.call(functions, bridgeFunctionName(method)) ? functions[bridgeFunctionName(method)] : undefined;
      if (typeof fn !== 'function') throw new ApiError('unknown_method', `unknown method ${JSON.stringify(String(method))}`);
      let result: BridgeResult;
      try {
        result = await fn(input);
      } catch (err) {
        // Electron refuses inputs it cannot clone before main sees them.
        throw new ApiError('invalid_input', `invalid input for ${method}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!result || typeof result !== 'object') throw new ApiError('internal', `malformed answer to ${method}`);
      if (!result.ok) throw ApiError.from(result.error);
      return result.output as MethodOutput<M>;
    },
    subscribe(listener) {
      return bridge.onEvent(listener);
    },
    // The main process is always there while the window is.
    connectionState: 'open' as ConnectionState,
    onConnectionChange(listener) {
      listener('open');
      return () => {};
    },
    close() {},
  };
}
