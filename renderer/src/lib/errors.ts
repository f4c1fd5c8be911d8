// Errors reach the UI as data ({code, message, details}), whatever the transport threw.
import { ApiError, type Issue } from '../../../electron/common/errors.ts';

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (typeof err === 'object' && err !== null && 'code' in err && 'message' in err) return ApiError.from({ ...err, message: (err as { message: unknown }).message });
  return new ApiError('internal', err instanceof Error ? err.message : String(err));
}

/** `details.issues` of an invalid_input error, or [] when there are none. */
export function issuesOf(err: ApiError): Issue[] {
  const issues = err.details?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.filter((i): i is Issue => typeof i === 'object' && i !== null && typeof i.path === 'string' && typeof i.message === 'string');
}
