// What the CLI's commands share: exit statuses, strict flag parsing, number flags, JSON lines and
// error output, opening the core, and following a job of the evaluation thread.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ApiClient } from '../../common/api.ts';
import type { EvaluationJob } from '../../common/api-evaluation.ts';
import { ApiError } from '../../common/errors.ts';
import { defaultHome } from '../paths.ts';
import { createStudioCore, type StudioCore } from '../services/studio.ts';
import { createInMemoryClient } from '../transport/in-memory.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Bad usage: `main` prints the message and exits with EXIT.usage. */
export class UsageError extends Error {}

/** node:util `parseArgs`, strict; an unknown or malformed flag is a UsageError. */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>, P extends boolean = false>(args: string[], options: O, allowPositionals?: P) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * The problem with `COMMAND SUB [TARGET]`, or null: `targets` maps each subcommand to what its one
 * positional is (e.g. "an ID"), or null when it takes none.
 */
export function subcommandProblem(command: string, positionals: string[], targets: Record<string, string | null>): string | null {
  const [sub = '', target, ...extra] = positionals;
  if (!Object.hasOwn(targets, sub)) return `unknown ${command} command "${sub}"`;
  const needs = targets[sub];
  if (needs && !target) return `${command} ${sub} needs ${needs}`;
  if (extra.length > 0 || (!needs && target)) return 'too many arguments';
  return null;
}

/** A number flag (undefined when absent); anything else is a UsageError. */
export function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** An integer flag ≥ min (undefined when absent); anything else is an `invalid_input` ApiError. */
export function intFlag(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new ApiError('invalid_input', `${flag} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** One JSON object on a line of stdout. */
export function printJson(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

/** An error: on stderr, and with --json also as {"type":"error",…,"code","message"} on stdout. */
export function printError(json: boolean, code: string, message: string, extra: Record<string, unknown> = {}): void {
  if (json) printJson({ type: 'error', ...extra, code, message });
  process.stderr.write(`gan-studio: ${message}\n`);
}

/**
 * The exit status of a command body that threw: bad usage is printed with EXIT.usage, an ApiError
 * (with its data under `error` in JSON) with `exitOf(err)`; anything else is a bug and is rethrown.
 */
export function reportFailure(err: unknown, json: boolean, exitOf: (err: ApiError) => number): number {
  if (err instanceof UsageError) {
    process.stderr.write(`gan-studio: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof ApiError) {
    printError(json, err.code, err.message, { error: err.toJSON() });
    return exitOf(err);
  }
  throw err;
}

/** Opens the core; says so when a damaged database had to be replaced. */
export async function openCore(home: string | undefined, mode: 'browser' | 'memory'): Promise<StudioCore> {
  const core = await createStudioCore({ home: home ?? defaultHome(), mode });
  if (core.openReport.recovered) process.stderr.write(`gan-studio: the database was damaged (${core.openReport.reason}); it was moved to ${core.openReport.movedTo} and a new one was created\n`);
  return core;
}

/** Runs a command body against the core through the same client API as the UI, and closes the core. */
export async function withClient<T>(home: string | undefined, body: (client: ApiClient, core: StudioCore) => Promise<T>): Promise<T> {
  const core = await openCore(home, 'memory');
  try {
    return await body(createInMemoryClient(core.api, core.events), core);
  } finally {
    await core.close();
  }
}

/**
 * Starts a job of the evaluation thread (an evaluation or a classifier training) and waits for its
 * end. With --json its progress comes as {"type":"progress","phase","fraction"} lines; Ctrl-C cancels it.
 */
export async function followEvaluationJob(core: StudioCore, client: ApiClient, json: boolean, start: () => Promise<EvaluationJob>): Promise<EvaluationJob> {
  let jobId: string | null = null;
  const onSigint = () => {
    if (jobId) void core.evaluation.cancel(jobId);
  };
  const unsubscribe = client.subscribe((e) => {
    if (json && e.type === 'evaluation.job' && e.job.jobId === jobId && e.job.state === 'running') printJson({ type: 'progress', phase: e.job.phase, fraction: e.job.fraction });
  });
  process.on('SIGINT', onSigint);
  try {
    jobId = (await start()).jobId;
    return await core.evaluation.wait(jobId);
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
  }
}

/** For an evaluation-thread job that did not finish: prints why and gives the exit status; null when it is done. */
export function unfinishedJobExit(end: EvaluationJob, what: string, json: boolean): number | null {
  if (end.state === 'done') return null;
  if (end.state === 'cancelled') {
    printError(json, 'cancelled', `the ${what} was cancelled; nothing was stored`);
    return EXIT.interrupted;
  }
  const code = end.error?.code ?? 'internal';
  printError(json, code, end.error?.message ?? `the ${what} failed`);
  return code === 'invalid_input' || code === 'not_found' ? EXIT.usage : EXIT.failed;
}
