// The one entry point every transport (Electron IPC, WebSocket, in-memory) goes through: method
// lookup, size/shape guards, schema validation, the call, and errors turned into data. It never
// throws and never returns a stack, so a transport only has to move the envelope.
import { API, isMethodName, TRANSPORT_LIMITS } from '../../common/api.ts';
import type { ApiImplementation, MethodName } from '../../common/api.ts';
import { ApiError, invalidInput, toErrorData } from '../../common/errors.ts';
import type { ApiErrorData } from '../../common/errors.ts';

export type HandlerResult = { ok: true; output: unknown } | { ok: false; error: ApiErrorData };
export type ApiHandler = (method: unknown, input: unknown) => Promise<HandlerResult>;

export interface ApiHandlerOptions {
  /**
   * Check the implementation's output against the method's output schema. Off in production (a
   * 100k-point `runs.scalars` answer is not worth re-parsing on every call); the in-memory
   * transport turns it on so tests catch a core that drifts from the contract.
   */
  validateOutput?: boolean;
  /** Approximate cap on the input's size, for transports that have no frame limit of their own (IPC). */
  maxInputBytes?: number;
  /** Told about unexpected (`internal`) errors, with their stack; default: console.error. */
  onInternalError?: (method: string, err: unknown) => void;
}

const logInternalError = (method: string, err: unknown): void => console.error(`[api] ${method} failed:`, err);

/** Keys that would let a later naive merge in the core rewrite an object's prototype. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

/**
 * Walks the input without recursion (a 256 KiB frame can nest 100k arrays deep) and stops early:
 * prototype-pollution keys, excessive depth and oversized inputs never reach zod or the core.
 */
export function inspectInput(input: unknown, maxBytes: number): ApiError | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: input, depth: 0, path: '(root)' }];
  let bytes = 0;
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    // Roughly the JSON size: the caps are coarse guards, not an exact count.
    if (typeof value === 'string') bytes += value.length + 2;
    else if (value === null || typeof value !== 'object') bytes += 4;
    else {
      if (depth >= MAX_DEPTH) return new ApiError('invalid_input', `invalid input: ${path}: nested more than ${MAX_DEPTH} levels deep`);
      if (ArrayBuffer.isView(value)) bytes += value.byteLength;
      else if (value instanceof ArrayBuffer) bytes += value.byteLength;
      else if (Array.isArray(value)) {
        bytes += 2 + value.length;
        if (bytes > maxBytes) break;
        for (let i = 0; i < value.length; i++) stack.push({ value: value[i], depth: depth + 1, path: `${path === '(root)' ? '' : `${path}.`}${i}` });
      } else {
        for (const key of Reflect.ownKeys(value)) {
          const name = String(key);
          const at = path === '(root)' ? name : `${path}.${name}`;
          if (FORBIDDEN_KEYS.has(name)) return invalidKey(at);
          bytes += name.length + 3;
          stack.push({ value: (value as Record<PropertyKey, unknown>)[key], depth: depth + 1, path: at });
        }
      }
    }
    if (bytes > maxBytes) break;
  }
  if (bytes > maxBytes) return new ApiError('payload_too_large', `input is larger than ${maxBytes} bytes`, { maxBytes });
  return null;
}

function invalidKey(path: string): ApiError {
  return new ApiError('invalid_input', `invalid input: ${path}: key not allowed`, { issues: [{ path, message: 'key not allowed' }] });
}

/** Error details must survive JSON and structured clone; anything else is dropped, not thrown. */
function wireSafe(error: ApiErrorData): ApiErrorData {
  const code = error.code;
  const message = typeof error.message === 'string' ? error.message : 'error';
  if (error.details === undefined) return { code, message };
  try {
    const details = JSON.parse(JSON.stringify(error.details)) as unknown;
    if (details && typeof details === 'object' && !Array.isArray(details)) return { code, message, details: details as Record<string, unknown> };
  } catch {
    // fall through: details were not serialisable
  }
  return { code, message };
}

export function createApiHandler(api: ApiImplementation, options: ApiHandlerOptions = {}): ApiHandler {
  const maxInputBytes = options.maxInputBytes ?? TRANSPORT_LIMITS.maxRequestBytes;
  const onInternalError = options.onInternalError ?? logInternalError;
  return async (method, input) => {
    try {
      if (!isMethodName(method)) {
        const shown = typeof method === 'string' ? JSON.stringify(method.slice(0, 100)) : typeof method;
        return { ok: false, error: { code: 'unknown_method', message: `unknown method ${shown}` } };
      }
      // Methods whose fields are all optional may be called without an input.
      const raw = input === undefined ? {} : input;
      const rejected = inspectInput(raw, maxInputBytes);
      if (rejected) return { ok: false, error: wireSafe(rejected.toJSON()) };
      const parsed = API[method].input.safeParse(raw);
      if (!parsed.success) return { ok: false, error: wireSafe(invalidInput(parsed.error, `invalid input for ${method}`).toJSON()) };
      const impl = api[method] as (input: unknown) => Promise<unknown>;
      const output = await impl.call(api, parsed.data);
      if (options.validateOutput) {
        const checked = API[method as MethodName].output.safeParse(output);
        if (!checked.success) {
          const err = invalidInput(checked.error, `the core returned an invalid ${method} output`);
          onInternalError(method, err);
          return { ok: false, error: wireSafe({ code: 'internal', message: err.message, details: err.details }) };
        }
      }
      return { ok: true, output };
    } catch (err) {
      try {
        const error = wireSafe(toErrorData(err));
        if (error.code === 'internal') onInternalError(String(method), err);
        return { ok: false, error };
      } catch {
        // toErrorData itself failed (e.g. a throwing `message` getter): still answer with data.
        return { ok: false, error: { code: 'internal', message: 'internal error' } };
      }
    }
  };
}
