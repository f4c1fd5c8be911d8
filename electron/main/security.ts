// Wires the pure policy (policy.ts) into Electron objects. Electron is only imported as types:
// main.ts passes the real session, web contents and shell, so this module loads in plain Node too.
import type { Session, Shell, WebContents } from 'electron';
import { denyPermissionCheck, denyPermissionRequest, isAllowedExternalUrl, isAllowedNavigation } from './policy.ts';

/** Permission request, check and device handlers all deny (RELIABILITY A5). */
export function hardenSession(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>): void {
  session.setPermissionRequestHandler(denyPermissionRequest);
  session.setPermissionCheckHandler(denyPermissionCheck);
  session.setDevicePermissionHandler(() => false);
}

/**
 * Every WebContents (call it from `app.on('web-contents-created')` so none is missed): navigation
 * stays on the app origin, no new windows, no <webview>; an allowed https link opens in the
 * system browser instead (RELIABILITY A4).
 */
export function hardenWebContents(contents: WebContents, openExternal: Shell['openExternal']): void {
  const guard = (event: { url: string; preventDefault(): void }): void => {
    if (!isAllowedNavigation(event.url)) event.preventDefault();
  };
  contents.on('will-navigate', guard);
  contents.on('will-frame-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void openExternal(url).catch(() => {});
    return { action: 'deny' };
  });
}
