// Error toasts for failed calls: each shows the error's {code, message}.
import type { ApiError } from '../../../electron/common/errors.ts';

export interface Toast {
  id: number;
  code: string;
  message: string;
}

const TOAST_MS = 8000;

export class ToastStore {
  #items = $state<Toast[]>([]);
  #nextId = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  get items(): readonly Toast[] {
    return this.#items;
  }

  push(err: Pick<ApiError, 'code' | 'message'>): void {
    const id = this.#nextId++;
    // the same error repeated (e.g. a retry loop) shows once
    if (this.#items.some((t) => t.code === err.code && t.message === err.message)) return;
    this.#items = [...this.#items.slice(-4), { id, code: err.code, message: err.message }];
    this.#timers.set(id, setTimeout(() => this.dismiss(id), TOAST_MS));
  }

  dismiss(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
    this.#items = this.#items.filter((t) => t.id !== id);
  }

  reset(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#items = [];
  }
}
