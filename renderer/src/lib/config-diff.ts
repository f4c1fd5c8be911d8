// The wizard edits a whole config but sends only what differs from the family preset, so the
// core (which fills the preset) stays the one source of defaults and a saved preset or run.json
// states just the user's choices.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  return Object.is(a, b);
}

/**
 * The leaves of `value` that differ from `base`, as a nested partial (undefined when nothing
 * differs). Arrays are compared whole; a leaf cleared to null counts as a change, so the
 * resolver names that field.
 */
export function diffConfig(value: unknown, base: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value) || !isPlainObject(base)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const b = base[k];
    if (isPlainObject(v) && isPlainObject(b)) {
      const sub = diffConfig(v, b);
      if (sub) out[k] = sub;
    } else if (v !== undefined && !same(v, b)) {
      out[k] = Array.isArray(v) ? [...v] : v;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

/** Deep merge of plain objects; arrays and scalars in `over` replace those in `base`. Neither is mutated. */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeConfig((base as Record<string, unknown>)[k], v);
  return out as T;
}

/** Only the given top-level sections of a partial. */
export function pickSections(partial: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!partial) return out;
  for (const k of keys) if (partial[k] !== undefined) out[k] = partial[k];
  return out;
}
