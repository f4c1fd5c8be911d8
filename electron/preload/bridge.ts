// Builds the object the preload exposes as `window.ganStudio`: one named function per API method,
// each bound to its own channel, plus `onEvent`. Nothing generic (no invoke(channel), no send, no
// ipcRenderer) crosses the context bridge (RELIABILITY A6). Electron-free so tests can call it.
import { METHOD_NAMES } from '../common/api.ts';
import type { StudioEvent } from '../common/api.ts';
import { bridgeFunctionName, EVENT_CHANNEL, ipcChannel, PICK_IMPORT_SOURCE_CHANNEL } from '../../renderer/src/lib/transport/ipc-client.ts';
import type { BridgeResult, ImportSourceKind, PreloadBridge } from '../../renderer/src/lib/transport/ipc-client.ts';

/** The part of ipcRenderer the bridge uses. */
export interface BridgeIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** The part of Electron's webUtils the bridge uses (File → absolute path, in the preload only). */
export interface BridgeWebUtils {
  getPathForFile(file: File): string;
}

export function buildBridge(ipc: BridgeIpc, webUtils: BridgeWebUtils): PreloadBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of METHOD_NAMES) {
    const channel = ipcChannel(method);
    // Exactly one argument is forwarded, whatever the page passes.
    bridge[bridgeFunctionName(method)] = (input: unknown) => ipc.invoke(channel, input);
  }
  bridge.onEvent = (listener: (event: StudioEvent) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    // The IpcRendererEvent (with its `sender`) never reaches the page: only the event data does.
    const wrapped = (_event: unknown, data: unknown): void => listener(data as StudioEvent);
    ipc.on(EVENT_CHANNEL, wrapped);
    return () => void ipc.removeListener(EVENT_CHANNEL, wrapped);
  };
  // Paths reach the page only from here (a dropped File) or from main (the dialog): the page never
  // invents one (RELIABILITY A6). A non-File argument gets '' rather than an exception.
  bridge.pathForFile = (file: unknown): string => {
    if (!file || typeof file !== 'object') return '';
    try {
      const p = webUtils.getPathForFile(file as File);
      return typeof p === 'string' ? p : '';
    } catch {
      return '';
    }
  };
  bridge.pickImportSource = (what: ImportSourceKind) => ipc.invoke(PICK_IMPORT_SOURCE_CHANNEL, what) as Promise<BridgeResult<{ path: string } | null>>;
  return Object.freeze(bridge) as PreloadBridge;
}
