// Saves data as a file from the page: an <a download> on a blob: URL, which the CSP allows
// (nothing is fetched or injected) and which works the same in Electron and the browser.

export function downloadJson(filename: string, data: unknown): void {
  downloadText(filename, `${JSON.stringify(data, null, 2)}\n`, 'application/json');
}

/** Saves text the core prepared (e.g. a CSV export) under its own name and type. */
export function downloadText(filename: string, text: string, mimeType = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // the click has started the download; the URL is not needed after this task
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A file name from free text: letters, digits, dot, dash and underscore. */
export function safeFileName(name: string, fallback = 'run'): string {
  const cleaned = name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned || fallback;
}
