// Small, pure formatters shared by the pages.

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatEta(seconds: number | null | undefined): string {
  return seconds == null ? '–' : formatDuration(seconds * 1000);
}

/** Compact numbers for dense tables: 4 significant digits, exponent for tiny/huge values. */
export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v == null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

export function formatInt(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US');
}

export function formatDateTime(epochMs: number | null | undefined): string {
  if (epochMs == null) return '–';
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
