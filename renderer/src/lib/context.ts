// What the component tree gets from its root through context (STYLE.md 11): the API client (so
// previews and tests can pass an in-memory one), the toasts and the router.
import { createContext } from 'svelte';
import type { ApiClient, MethodInput, MethodName, MethodOutput } from '../../../electron/common/api.ts';
import type { ApiError } from '../../../electron/common/errors.ts';
import { asApiError } from './errors.ts';
import type { HashRouter } from './router.svelte.ts';
import type { ToastStore } from './toasts.svelte.ts';

/**
 * The client plus error reporting: a failed call shows a toast with {code, message} and rejects
 * with an ApiError. `quiet` leaves reporting to the caller (e.g. field errors in the wizard).
 */
export class Api {
  readonly client: ApiClient;
  readonly #toasts: ToastStore;

  constructor(client: ApiClient, toasts: ToastStore) {
    this.client = client;
    this.#toasts = toasts;
  }

  async call<M extends MethodName>(method: M, input: MethodInput<M>, opts: { quiet?: boolean } = {}): Promise<MethodOutput<M>> {
    try {
      return await this.client.call(method, input);
    } catch (err) {
      const apiErr: ApiError = asApiError(err);
      if (!opts.quiet) this.report(apiErr);
      throw apiErr;
    }
  }

  /** Shows an error the caller chose not to handle itself. */
  report(err: unknown): void {
    this.#toasts.push(asApiError(err));
  }

  subscribe(...args: Parameters<ApiClient['subscribe']>): () => void {
    return this.client.subscribe(...args);
  }
}

export interface Studio {
  api: Api;
  toasts: ToastStore;
  router: HashRouter;
}

export const [getStudio, setStudio] = createContext<Studio>();
