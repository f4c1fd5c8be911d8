// "Keep the last K plus the best" (issue 3): the checkpoint that scored best in a run's
// during-training evaluations survives the trainer's keep-last-K pruning as checkpoints/best.
//
// Why a copy owned by the core rather than a "protected" marker the pruner respects: the trainer
// process prunes its checkpoints folder on its own schedule, and the core learns of a checkpoint
// (and later of its score) only by message. A marker written by the core would race with a prune
// already under way (the pruner may read the marker list just before it is written and delete the
// folder anyway), and every pruner would have to learn the marker. Instead the core never writes
// into or deletes a trainer-owned `step-N` folder:
// - when a during-training evaluation starts, the core hard-links the checkpoint's two files into a
//   pin folder `.pin-step-N-…` beside it (no bytes copied; a hard link survives the trainer's
//   `rm` of the original name, and the files of a checkpoint are never rewritten in place). The
//   evaluation reads the pin, so it cannot lose its checkpoint to a prune mid-read either;
// - when the score makes it the best, the pin folder is renamed over `best` with the checkpoint
//   module's replace (old `best` → trash, pin → `best`, trash removed, folder fsynced); otherwise
//   the pin is removed.
// The trainer's pruner only touches `step-N` folders and `.tmp-…` debris, so none of these names
// are its business. A crash mid-pin leaves a stale pin (removed later) and the old `best`
// untouched; a crash between the two renames leaves `best` missing and the old one as
// `.best-old-…`, which `recoverBest` renames back before `best` is next read or replaced.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { EvaluationSummary } from '../../common/api-evaluation.ts';
import type { BestCheckpoint } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { fsyncDir } from '../util/atomic-fs.ts';
import { checkpointDirName, nodeCheckpointFs, replaceDir, type CheckpointFs, type CheckpointManifest } from '../trainer/checkpoint.ts';

export const BEST_DIR = 'best';
const PIN_PREFIX = '.pin-';
const PIN_RE = /^\.pin-.+-(\d+)-[0-9a-f]{8}$/;
const BEST_TRASH_PREFIX = '.best-old-';
const CHECKPOINT_FILES = ['manifest.json', 'tensors.bin'] as const;

export function bestCheckpointDir(checkpointsDir: string): string {
  return path.join(checkpointsDir, BEST_DIR);
}

const suffix = () => `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;

/** A hard link where the file system has them, else a copy (same folder, so never across devices). */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
    await fsp.copyFile(from, to);
    const fh = await fsp.open(to, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/**
 * Pins a checkpoint folder (`step-N` or `best`) of `checkpointsDir`: its files are hard-linked into
 * a new `.pin-…` folder beside it, which nothing else deletes. The caller removes the pin
 * (`releasePin`) or promotes it (`promoteToBest`). A folder that is gone (pruned meanwhile) is a
 * `not_found` naming it. `claim` gets the pin's path before it is created (see clearStalePins).
 */
export async function pinCheckpointDir(checkpointsDir: string, name: string, claim?: (pin: string) => void): Promise<string> {
  const source = path.join(checkpointsDir, name);
  const pin = path.join(checkpointsDir, `${PIN_PREFIX}${name}-${suffix()}`);
  claim?.(pin);
  await fsp.mkdir(pin);
  try {
    for (const f of CHECKPOINT_FILES) await linkOrCopy(path.join(source, f), path.join(pin, f));
    await fsyncDir(pin);
  } catch (err) {
    await fsp.rm(pin, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ApiError('not_found', `the checkpoint folder ${name} is gone (pruned by keep-last-K before it could be pinned)`);
    throw err;
  }
  return pin;
}

export function pinCheckpoint(checkpointsDir: string, step: number, claim?: (pin: string) => void): Promise<string> {
  return pinCheckpointDir(checkpointsDir, checkpointDirName(step), claim);
}

export async function releasePin(pin: string): Promise<void> {
  await fsp.rm(pin, { recursive: true, force: true });
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes pins left by a process that is gone (a crash mid-evaluation) and, with `ours` (every pin
 * this process holds, claimed before it is created), this process's pins that are not in it: after
 * a crash and restart the new process may well have the old one's id (containers). Pins of other
 * live processes (a CLI evaluation) stay.
 */
export async function clearStalePins(checkpointsDir: string, ours?: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  for (const n of await fsp.readdir(checkpointsDir).catch(() => [] as string[])) {
    const m = PIN_RE.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    const full = path.join(checkpointsDir, n);
    const stale = pid === process.pid ? ours !== undefined && !ours.has(full) : !pidAlive(pid);
    if (!stale) continue;
    await fsp.rm(full, { recursive: true, force: true });
    removed.push(n);
  }
  return removed;
}

/**
 * A crash between the two renames of a best replacement left no `best` and the previous one as
 * `.best-old-…`: rename the newest such folder back. With a `best` in place, the leftovers are
 * debris of finished replacements and are removed.
 */
export async function recoverBest(checkpointsDir: string): Promise<void> {
  const names = await fsp.readdir(checkpointsDir).catch(() => [] as string[]);
  const trash = names.filter((n) => n.startsWith(BEST_TRASH_PREFIX)).map((n) => path.join(checkpointsDir, n));
  if (trash.length === 0) return;
  const best = bestCheckpointDir(checkpointsDir);
  if (!(await nodeCheckpointFs.exists(best))) {
    const stats = await Promise.all(trash.map(async (t) => ({ t, mtime: (await fsp.stat(t).catch(() => null))?.mtimeMs ?? 0 })));
    stats.sort((a, b) => b.mtime - a.mtime);
    await fsp.rename(stats[0]!.t, best);
    await fsyncDir(checkpointsDir);
    trash.splice(trash.indexOf(stats[0]!.t), 1);
  }
  for (const t of trash) await fsp.rm(t, { recursive: true, force: true });
}

/**
 * Makes a pinned checkpoint the run's `best`, replacing the previous one atomically (the pin is
 * consumed). The checkpoints folder must exist: a deleted run's folder is not recreated.
 */
export async function promoteToBest(checkpointsDir: string, pin: string, fs: CheckpointFs = nodeCheckpointFs): Promise<void> {
  await recoverBest(checkpointsDir);
  await replaceDir(pin, bestCheckpointDir(checkpointsDir), path.join(checkpointsDir, `${BEST_TRASH_PREFIX}${suffix()}`), fs);
}

/** The manifest of a checkpoint folder (not the tensors: the loader verifies those). */
export async function readManifest(dir: string): Promise<CheckpointManifest> {
  return JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')) as CheckpointManifest;
}

// ---- which evaluation makes a checkpoint the best ----

export type BestMetric = BestCheckpoint['metric'];

/** FID (lower is better), else the KID mean when FID is not among the evaluation's scores. */
export function scoreForBest(e: Pick<EvaluationSummary, 'scores'>): { metric: BestMetric; score: number } | null {
  if (typeof e.scores.fid === 'number' && Number.isFinite(e.scores.fid)) return { metric: 'fid', score: e.scores.fid };
  if (e.scores.kid && Number.isFinite(e.scores.kid.mean)) return { metric: 'kid', score: e.scores.kid.mean };
  return null;
}

export const formatBestScore = (metric: BestMetric, score: number) => `${metric.toUpperCase()} ${score.toPrecision(4)}`;

export type BestDecision = { promote: true; metric: BestMetric; score: number; reason: string } | { promote: false; reason: string };

/**
 * Whether the during-training evaluation `e` (just finished, of checkpoint `e.step`) makes its
 * checkpoint the run's best. Scores are only compared within one protocol. Against a kept best of
 * the same protocol: strictly lower wins (a tie keeps the earlier one). With no best yet, or one
 * measured under another protocol (a different extractor, N, …): `e` wins when no other
 * during-training evaluation of the run under `e`'s protocol (`peers`) scored lower — a lower one
 * whose checkpoint could not be kept (pruned before it was pinned) is reported instead.
 */
export function decideBest(e: EvaluationSummary, current: BestCheckpoint | null, peers: readonly EvaluationSummary[]): BestDecision {
  const s = scoreForBest(e);
  if (!s) return { promote: false, reason: 'it has neither an FID nor a KID score' };
  const mine = formatBestScore(s.metric, s.score);
  if (current && current.protocolKey === e.protocolKey) {
    if (s.score < current.score) return { promote: true, ...s, reason: `${mine} beats the best so far, step ${current.step} (${formatBestScore(current.metric, current.score)})` };
    return { promote: false, reason: `${mine} does not beat the best, step ${current.step} (${formatBestScore(current.metric, current.score)})` };
  }
  const better = peers
    .filter((p) => p.id !== e.id && p.runId === e.runId && p.protocol.duringTraining && p.protocolKey === e.protocolKey)
    .map((p) => ({ p, s: scoreForBest(p) }))
    .filter((x) => x.s !== null && x.s.metric === s.metric && x.s.score < s.score)
    .sort((a, b) => a.s!.score - b.s!.score)[0];
  if (better) return { promote: false, reason: `${mine} does not beat step ${better.p.step} (${formatBestScore(s.metric, better.s!.score)}), whose checkpoint was not kept` };
  if (current) return { promote: true, ...s, reason: `${mine}; replaces the best at step ${current.step}, which was measured under another protocol` };
  return { promote: true, ...s, reason: `${mine}, the first best of this run` };
}
