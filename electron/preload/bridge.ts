// Builds the object the preload exposes as `window.ganStudio`: one named function per API method,
// each bound to its own channel, plus `onEvent`. Nothing generic (no invoke(channel), no send, no
// ipcRenderer) crosses the context bridge (RELIABILITY A6). Electron-free so tests can call it.
import { METHOD_NAMES } from '../common/api.ts';
import type { StudioEvent } from '../common/api.ts';
import { bridgeFunctionName, EVENT_CHANNEL, ipcChannel } from '../../renderer/src/lib/transport/ipc-client.ts';
import type { PreloadBridge } from '../../renderer/src/lib/transport/ipc-client.ts';

/** The part of ipcRenderer the bridge uses. */
export interface BridgeIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function buildBridge(ipc: BridgeIpc): PreloadBridge {
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
  return Object.freeze(bridge) as PreloadBridge;
}
