// Calls a studio API method from inside the page, over the browser-mode WebSocket (the page's
// session cookie authenticates it): e2e tests read what the core stored through the API rather
// than opening its database.
import type { Page } from 'playwright-core';
import type { MethodName, MethodOutput } from '../../electron/common/api.ts';
import { WS_PATH } from '../../electron/common/wire.ts';

export async function pageApiCall<M extends MethodName>(page: Page, method: M, input: unknown): Promise<MethodOutput<M>> {
  return (await page.evaluate(
    ([m, i, wsPath]) =>
      new Promise<unknown>((resolve, reject) => {
        const loc = (globalThis as unknown as { location: { protocol: string; host: string } }).location;
        const ws = new WebSocket(`${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${wsPath}`);
        ws.onopen = () => ws.send(JSON.stringify({ kind: 'call', id: 1, method: m, input: i }));
        ws.onmessage = (e) => {
          const f = JSON.parse(String(e.data)) as { kind: string; id?: number; ok?: boolean; output?: unknown; error?: { code: string; message: string } };
          if (f.kind !== 'result' || f.id !== 1) return;
          ws.close();
          if (f.ok) resolve(f.output);
          else reject(new Error(`${m}: ${f.error?.code}: ${f.error?.message}`));
        };
        ws.onerror = () => reject(new Error(`${m}: the WebSocket failed`));
      }),
    [method, input, WS_PATH] as const,
  )) as MethodOutput<M>;
}
