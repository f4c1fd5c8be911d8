// Detector thresholds and diagnostics options: the schema lives in electron/common/diagnostics-config.ts
// (the wizard's form validates with it too); this module validates at the core's boundary.
import { z } from 'zod';
import { invalidInput } from '../../common/errors.ts';
import { DiagnosticsConfigSchema, diagnosticsConfigIssues, type DiagnosticsConfig } from '../../common/diagnostics-config.ts';

export { DiagnosticsConfigSchema, DEFAULT_DIAGNOSTICS, diagnosticsConfigIssues, type DiagnosticsConfig, type DiagnosticsConfigInput } from '../../common/diagnostics-config.ts';

/** Validates a (partial) diagnostics config and fills in the defaults; `invalid_input` names each bad field. */
export function resolveDiagnosticsConfig(input: unknown): DiagnosticsConfig {
  const parsed = DiagnosticsConfigSchema.safeParse(input ?? {});
  if (!parsed.success) throw invalidInput(parsed.error, 'invalid diagnostics config');
  const issues = diagnosticsConfigIssues(parsed.data);
  if (issues.length > 0) {
    throw invalidInput(new z.ZodError(issues.map((message) => ({ code: 'custom' as const, path: [message.split(' ')[0]!], message, input: undefined }))), 'invalid diagnostics config');
  }
  return parsed.data;
}
