// One client for the whole UI: Electron's preload bridge when the page runs in the app window,
// the browser-mode WebSocket otherwise. Tests and previews inject an in-memory client instead.
import { createIpcClient, findPreloadBridge } from './ipc-client.ts';
import { createWsClient } from './ws-client.ts';
import type { StudioClient } from './ws-client.ts';

export type { ConnectionState, StudioClient } from './ws-client.ts';
export type { PreloadBridge } from './ipc-client.ts';
export { createIpcClient } from './ipc-client.ts';
export { createWsClient } from './ws-client.ts';

let picked: StudioClient | null = null;

/** Memoised: every caller shares one connection. */
export function pickClient(): StudioClient {
  if (!picked) {
    const bridge = findPreloadBridge();
    picked = bridge ? createIpcClient(bridge) : createWsClient();
  }
  return picked;
}
