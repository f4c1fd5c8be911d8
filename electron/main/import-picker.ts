// The open dialog for an import source (issue 5): a named preload function asks main, main checks
// the sender like every API channel (RELIABILITY A6), validates the one argument, and shows the
// system dialog on the sender's window. The path comes from main, so the page never invents one.
// Electron is injected (types only here), so this is tested in plain Node.
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent, OpenDialogOptions, OpenDialogReturnValue } from 'electron';
import { z } from 'zod';
import { PICK_IMPORT_SOURCE_CHANNEL } from '../../renderer/src/lib/transport/ipc-client.ts';
import type { BridgeResult, ImportSourceKind } from '../../renderer/src/lib/transport/ipc-client.ts';
import { senderIsTrusted } from './ipc.ts';

const KindSchema = z.enum(['folder', 'file']);

/** File types an import reads: zip archives, NumPy arrays, IDX (often without an extension, or .gz), CIFAR batches. */
export const IMPORT_FILE_FILTERS: OpenDialogOptions['filters'] = Object.freeze([
  { name: 'Datasets (zip, npy, IDX, CIFAR)', extensions: ['zip', 'npy', 'gz', 'bin', 'idx1-ubyte', 'idx3-ubyte', 'ubyte'] },
  // MNIST's files are named train-images-idx3-ubyte: no extension a filter could match
  { name: 'All files', extensions: ['*'] },
]) as OpenDialogOptions['filters'];

export function importDialogOptions(kind: ImportSourceKind): OpenDialogOptions {
  return kind === 'folder'
    ? { title: 'Import a folder of images', buttonLabel: 'Import folder', properties: ['openDirectory', 'dontAddToRecent'] }
    : { title: 'Import a zip, IDX, CIFAR or .npy file', buttonLabel: 'Import file', properties: ['openFile', 'dontAddToRecent'], filters: IMPORT_FILE_FILTERS };
}

/** The chosen path, or null when the dialog was cancelled or returned nothing usable. */
export function pickedPath(result: Pick<OpenDialogReturnValue, 'canceled' | 'filePaths'>): { path: string } | null {
  if (result.canceled) return null;
  const p = result.filePaths?.[0];
  return typeof p === 'string' && p.length > 0 && p.length <= 4096 ? { path: p } : null;
}

export type ShowOpenDialog = (window: BrowserWindow | null, options: OpenDialogOptions) => Promise<Pick<OpenDialogReturnValue, 'canceled' | 'filePaths'>>;

/** Answers one request: untrusted sender or bad argument → typed error, else the picked path or null. */
export async function answerPick(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, what: unknown, window: BrowserWindow | null, show: ShowOpenDialog): Promise<BridgeResult<{ path: string } | null>> {
  if (!senderIsTrusted(event)) return { ok: false, error: { code: 'unauthorized', message: 'IPC from an untrusted frame' } };
  const kind = KindSchema.safeParse(what);
  if (!kind.success) return { ok: false, error: { code: 'invalid_input', message: 'pickImportSource takes "folder" or "file"' } };
  try {
    return { ok: true, output: pickedPath(await show(window, importDialogOptions(kind.data))) };
  } catch (err) {
    return { ok: false, error: { code: 'internal', message: `the open dialog failed: ${(err as Error).message}` } };
  }
}

/** Registers the channel; `windowOf` finds the window of the asking page (the dialog is modal to it). */
export function registerImportPicker(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, show: ShowOpenDialog, windowOf: (event: IpcMainInvokeEvent) => BrowserWindow | null): () => void {
  ipcMain.handle(PICK_IMPORT_SOURCE_CHANNEL, (event: IpcMainInvokeEvent, what: unknown) => answerPick(event, what, senderIsTrusted(event) ? windowOf(event) : null, show));
  return () => ipcMain.removeHandler(PICK_IMPORT_SOURCE_CHANNEL);
}
