// Where the studio keeps its data. The desktop app, the CLI and browser mode share one folder:
// Electron's userData location for an app named "gan-studio", unless GAN_STUDIO_HOME or --home
// says otherwise (tests always pass one, so they never touch a user's data).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_FOLDER = 'gan-studio';

export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.GAN_STUDIO_HOME) return path.resolve(env.GAN_STUDIO_HOME);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_FOLDER);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_FOLDER);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_FOLDER);
}

/** The checkout (or installed package) root. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built renderer; GAN_STUDIO_RENDERER_DIST points elsewhere (parallel e2e builds during development). */
export const RENDERER_DIST = process.env.GAN_STUDIO_RENDERER_DIST ? path.resolve(process.env.GAN_STUDIO_RENDERER_DIST) : path.join(PROJECT_ROOT, 'dist', 'renderer');
