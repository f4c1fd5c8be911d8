// Removing what an import wrote: its cache folder and any temp folder writeDatasetCache left
// (named `<dir>.tmp-<pid>-<hex>`), so a cancelled or failed import leaves nothing behind.
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export async function removeImportOutput(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  const names = await fsp.readdir(parent).catch(() => [] as string[]);
  for (const n of names) {
    if (n === base || n.startsWith(`${base}.tmp-`)) await fsp.rm(path.join(parent, n), { recursive: true, force: true });
  }
}

/** Temp folders of imports that a crash or kill interrupted (imported datasets only). */
export async function sweepStaleImports(datasetsDir: string): Promise<string[]> {
  const names = await fsp.readdir(datasetsDir).catch(() => [] as string[]);
  const stale = names.filter((n) => /^imported-.*\.tmp-\d+-[0-9a-f]+$/.test(n));
  for (const n of stale) await fsp.rm(path.join(datasetsDir, n), { recursive: true, force: true });
  return stale;
}
