// Electron IPC for the API (RELIABILITY A6): one `ipcMain.handle('api:<method>')` per method, the
// sender checked (our origin, top frame), everything through the same api-handler as the other
// transports, and the handler's envelope returned so errors keep their code. Electron is injected.
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { METHOD_NAMES } from '../common/api.ts';
import type { ApiImplementation, EventSource, StudioEvent } from '../common/api.ts';
import { createApiHandler } from '../core/transport/api-handler.ts';
import type { ApiHandlerOptions, HandlerResult } from '../core/transport/api-handler.ts';
import { EVENT_CHANNEL, ipcChannel } from '../../renderer/src/lib/transport/ipc-client.ts';
import { isAppUrl, isTrustedSender } from './policy.ts';

type SenderEvent = Pick<IpcMainInvokeEvent, 'senderFrame'>;

/** The sender check on its own, for tests: a destroyed or navigated-away frame is not trusted. */
export function senderIsTrusted(event: SenderEvent): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  try {
    return isTrustedSender({ url: frame.url, isTopFrame: frame.parent === null });
  } catch {
    return false;
  }
}

const UNTRUSTED: HandlerResult = { ok: false, error: { code: 'unauthorized', message: 'IPC from an untrusted frame' } };

/** Registers every method; returns a function that removes the handlers again. */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, api: ApiImplementation, options: ApiHandlerOptions = {}): () => void {
  const handle = createApiHandler(api, options);
  for (const method of METHOD_NAMES) {
    // Extra arguments are ignored: the bridge sends exactly one.
    ipcMain.handle(ipcChannel(method), (event: IpcMainInvokeEvent, input: unknown) => (senderIsTrusted(event) ? handle(method, input) : UNTRUSTED));
  }
  return () => {
    for (const method of METHOD_NAMES) ipcMain.removeHandler(ipcChannel(method));
  };
}

/** Forwards core events to every live window showing the app; returns the unsubscribe function. */
export function forwardEvents(events: EventSource, windows: () => Iterable<Pick<WebContents, 'isDestroyed' | 'getURL' | 'send'>>): () => void {
  return events.subscribe((event: StudioEvent) => {
    for (const contents of windows()) {
      if (!contents.isDestroyed() && isAppUrl(contents.getURL())) contents.send(EVENT_CHANNEL, event);
    }
  });
}
