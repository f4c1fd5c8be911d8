// The transport for tests and previews: no socket, but the same handler (so validation, size caps
// and error mapping are exercised) and structured clones on both sides (so a test cannot share
// object identity with the core, just as a real renderer cannot).
import type { ApiClient, ApiImplementation, EventSource, MethodInput, MethodName, MethodOutput, StudioEvent } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { createApiHandler } from './api-handler.ts';
import type { ApiHandlerOptions } from './api-handler.ts';

export function createInMemoryClient(api: ApiImplementation, events: EventSource, options: ApiHandlerOptions = {}): ApiClient {
  const handle = createApiHandler(api, { validateOutput: true, ...options });
  return {
    async call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
      let cloned: unknown;
      try {
        cloned = structuredClone(input);
      } catch (err) {
        // What Electron IPC or JSON would refuse too (functions, symbols, ...).
        throw new ApiError('invalid_input', `invalid input for ${String(method)}: ${err instanceof Error ? err.message : 'not cloneable'}`);
      }
      const result = await handle(method, cloned);
      if (!result.ok) throw ApiError.from(result.error);
      return structuredClone(result.output) as MethodOutput<M>;
    },
    subscribe(listener: (event: StudioEvent) => void): () => void {
      let active = true;
      const unsubscribe = events.subscribe((event) => {
        const copy = structuredClone(event);
        // Delivered later, as over a real transport, so tests do not rely on synchronous delivery.
        queueMicrotask(() => {
          if (!active) return;
          try {
            listener(copy);
          } catch (err) {
            console.error('[in-memory transport] event listener threw:', err);
          }
        });
      });
      return () => {
        active = false;
        unsubscribe();
      };
    },
  };
}
