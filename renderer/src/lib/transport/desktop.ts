// What the Electron window offers beyond the API: the path of a dropped file or folder and the
// system's open dialog, both from the preload (the page never makes a path up). Null in browser mode.
import { ApiError } from '../../../../electron/common/errors.ts';
import { findPreloadBridge, type ImportSourceKind, type PreloadBridge } from './ipc-client.ts';

export interface DesktopShell {
  /** the absolute path of a dropped File, or '' when it has none */
  pathForFile(file: File): string;
  /** the chosen folder or file, or null when the dialog was cancelled */
  pickImportSource(what: ImportSourceKind): Promise<string | null>;
}

export function desktopShell(bridge: PreloadBridge | undefined = findPreloadBridge()): DesktopShell | null {
  if (!bridge || typeof bridge.pathForFile !== 'function' || typeof bridge.pickImportSource !== 'function') return null;
  return {
    pathForFile: (file) => bridge.pathForFile(file),
    async pickImportSource(what) {
      const r = await bridge.pickImportSource(what);
      if (!r || typeof r !== 'object') throw new ApiError('internal', 'malformed answer from the open dialog');
      if (!r.ok) throw ApiError.from(r.error);
      return r.output?.path ?? null;
    },
  };
}
