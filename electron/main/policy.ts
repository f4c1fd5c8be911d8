// The Electron shell's security policy as plain data and pure functions (RELIABILITY A1, A4, A5,
// A6). No `electron` import here, so the tests check exactly what the shell enforces.

/** The UI is served by our own `app://` handler, never from file:// (A2). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Shape of Electron's WebPreferences that we set; kept local so this module stays Electron-free. */
export interface LockedWebPreferences {
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly webSecurity: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webviewTag: false;
  readonly allowRunningInsecureContent: false;
  readonly experimentalFeatures: false;
  readonly enableBlinkFeatures: '';
  readonly navigateOnDragDrop: false;
  readonly safeDialogs: true;
  readonly spellcheck: false;
  readonly preload?: string;
}

export const WEB_PREFERENCES: LockedWebPreferences = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  webSecurity: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webviewTag: false,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  enableBlinkFeatures: '',
  navigateOnDragDrop: false,
  safeDialogs: true,
  // Offline first: Chromium's spellchecker downloads dictionaries.
  spellcheck: false,
} as const);

/** The locked preferences plus the bundled preload; the result is frozen too. */
export function webPreferencesWithPreload(preloadPath: string): LockedWebPreferences {
  if (typeof preloadPath !== 'string' || !preloadPath) throw new Error('a preload path is required');
  return Object.freeze({ ...WEB_PREFERENCES, preload: preloadPath });
}

function parse(url: unknown): URL | null {
  if (typeof url !== 'string' || url.length > 4096) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Only our own origin. Compared on scheme and host, not `URL.origin`: Node reports `null` as the
 * origin of a non-special scheme such as app:, while Chromium (standard scheme) does not.
 */
export function isAppUrl(url: unknown): boolean {
  const parsed = parse(url);
  return !!parsed && parsed.protocol === `${APP_SCHEME}:` && parsed.hostname.toLowerCase() === APP_HOST && parsed.port === '' && parsed.username === '' && parsed.password === '';
}

/** will-navigate / will-redirect / will-frame-navigate: the app origin only (A4). */
export function isAllowedNavigation(url: unknown): boolean {
  return isAppUrl(url);
}

/** Hosts a link in the UI may open in the system browser: exact names, no wildcards. */
export const EXTERNAL_HOSTS: readonly string[] = Object.freeze(['github.com', 'arxiv.org', 'www.tensorflow.org', 'js.tensorflow.org', 'www.electronjs.org']);

/** https only, default port, no credentials, host on the allow-list (A4). */
export function isAllowedExternalUrl(url: unknown, hosts: readonly string[] = EXTERNAL_HOSTS): boolean {
  const parsed = parse(url);
  if (!parsed || parsed.protocol !== 'https:') return false;
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return false;
  return hosts.includes(parsed.hostname);
}

/** Permission requests (camera, notifications, geolocation, ...) are all refused (A5). */
export function denyPermissionRequest(_webContents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}
export function denyPermissionCheck(): boolean {
  return false;
}

/** IPC sender check (A6): a top-level frame showing our own origin. */
export function isTrustedSender(frame: { url: string; isTopFrame: boolean } | null | undefined): boolean {
  return !!frame && frame.isTopFrame && isAppUrl(frame.url);
}
