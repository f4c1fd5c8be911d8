// Named wizard presets in localStorage. Each holds the partial config the wizard would send
// (what differs from the family preset, plus dataset, family, seed and backend). Entries are
// validated on load with the shared config resolver; anything that does not parse is skipped,
// so a hand-edited or older entry can never break the wizard.
import { z } from 'zod';
import { resolveRunConfig } from '../../../../electron/common/config.ts';

export const PRESETS_STORAGE_KEY = 'gan-studio:wizard-presets:v1';
const MAX_PRESETS = 100;

const EntrySchema = z.object({
  name: z.string().trim().min(1).max(100),
  savedAt: z.number(),
  config: z.record(z.string(), z.unknown()),
});
export type WizardPreset = z.infer<typeof EntrySchema>;

/** The subset of Web Storage the store needs, so tests can pass a Map-backed one. */
export type PresetStorage = Pick<Storage, 'getItem' | 'setItem'>;

function isValid(entry: unknown): entry is WizardPreset {
  const parsed = EntrySchema.safeParse(entry);
  if (!parsed.success) return false;
  try {
    resolveRunConfig(parsed.data.config, () => 0);
    return true;
  } catch {
    return false;
  }
}

export function parsePresets(raw: string | null): WizardPreset[] {
  if (!raw) return [];
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const seen = new Set<string>();
  const out: WizardPreset[] = [];
  for (const entry of data) {
    if (!isValid(entry) || seen.has(entry.name)) continue;
    seen.add(entry.name);
    out.push({ name: entry.name.trim(), savedAt: entry.savedAt, config: entry.config });
  }
  return out;
}

export class PresetStore {
  #storage: PresetStorage | null;
  #list = $state.raw<WizardPreset[]>([]);
  #error = $state<string | null>(null);

  constructor(storage: PresetStorage | null = typeof localStorage === 'undefined' ? null : localStorage) {
    this.#storage = storage;
  }

  get list(): readonly WizardPreset[] {
    return this.#list;
  }
  /** why the last save failed (storage full or unavailable), shown next to the form */
  get error(): string | null {
    return this.#error;
  }

  load(): void {
    try {
      this.#list = parsePresets(this.#storage?.getItem(PRESETS_STORAGE_KEY) ?? null);
    } catch {
      this.#list = [];
    }
  }

  /** Saves (or replaces) a preset; returns false with `error` set when it could not be stored. */
  save(name: string, config: Record<string, unknown>): boolean {
    const trimmed = name.trim();
    const entry = { name: trimmed, savedAt: Date.now(), config: structuredClone(config) };
    if (!isValid(entry)) {
      this.#error = trimmed ? 'This config is not valid yet: fix the problems first.' : 'Give the preset a name.';
      return false;
    }
    const next = [entry, ...this.#list.filter((p) => p.name !== trimmed)].slice(0, MAX_PRESETS);
    if (!this.#write(next)) return false;
    this.#list = next;
    this.#error = null;
    return true;
  }

  remove(name: string): void {
    const next = this.#list.filter((p) => p.name !== name);
    if (this.#write(next)) this.#list = next;
  }

  #write(list: WizardPreset[]): boolean {
    if (!this.#storage) {
      this.#error = 'Presets cannot be stored here (no localStorage).';
      return false;
    }
    try {
      this.#storage.setItem(PRESETS_STORAGE_KEY, JSON.stringify(list));
      return true;
    } catch (err) {
      this.#error = `Could not store the preset: ${err instanceof Error ? err.message : String(err)}`;
      return false;
    }
  }

  reset(): void {
    this.#list = [];
    this.#error = null;
  }
}
