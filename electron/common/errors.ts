// Errors cross every boundary (IPC, WebSocket, trainer messages, CLI) as data, never as bare strings.
import { z } from 'zod';

export const ERROR_CODES = [
  'invalid_input', // a request or config failed its schema; `details.issues` names the fields
  'not_found',
  'conflict', // e.g. pausing a run that is not running
  'unauthorized',
  'unknown_method',
  'payload_too_large',
  'trainer_crashed',
  'trainer_failed',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const IssueSchema = z.object({ path: z.string(), message: z.string() });
export type Issue = z.infer<typeof IssueSchema>;

export const ApiErrorShape = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ApiErrorData = z.infer<typeof ApiErrorShape>;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
  toJSON(): ApiErrorData {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
  static from(data: unknown): ApiError {
    const parsed = ApiErrorShape.safeParse(data);
    if (parsed.success) return new ApiError(parsed.data.code, parsed.data.message, parsed.data.details);
    return new ApiError('internal', typeof data === 'string' ? data : 'unknown error');
  }
}

/** Turns anything thrown into the wire shape; unexpected errors keep their message but not their stack. */
export function toErrorData(err: unknown): ApiErrorData {
  if (err instanceof ApiError) return err.toJSON();
  if (err instanceof z.ZodError) return invalidInput(err).toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}

export function zodIssues(err: z.ZodError): Issue[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** One message that names every offending field, e.g. `schedule.batchSize: Too small: expected number to be >0`. */
export function invalidInput(err: z.ZodError, prefix = 'invalid input'): ApiError {
  const issues = zodIssues(err);
  const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new ApiError('invalid_input', `${prefix}: ${text}`, { issues });
}
