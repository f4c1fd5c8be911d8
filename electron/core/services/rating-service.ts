// Human rating sessions (issue 8): creation from runs/checkpoints and real sets, the rater loop
// (next / answer / finish, resumable: every answer is in SQLite as it comes), results with
// intervals, CSV/JSON export, the offline rater kit and its answers import. Images live as PNG
// files in `<home>/ratings/<session>/img`, written into a temp folder renamed into place.
import path from 'node:path';
import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import sharp from 'sharp';
import type { ApiImplementation, StudioEvent } from '../../common/api.ts';
import {
  RATING_TYPE_INFO,
  StaircaseOptionsSchema,
  type RatingAnswerValue,
  type RatingCreateRequestSchema,
  type RatingItem,
  type RatingResults,
  type RatingSession,
  type RatingSource,
  type RaterProgress,
} from '../../common/api-rating.ts';
import type { z } from 'zod';
import type { RunConfigSchema } from '../../common/config.ts';
import { ApiError } from '../../common/errors.ts';
import type { Db } from '../db/database.ts';
import * as repo from '../db/ratings-repo.ts';
import { getRunDetail, getRunDir } from '../db/runs-repo.ts';
import { getDataset, getDatasetDir } from '../db/datasets-repo.ts';
import { fsyncDir, sha256, writeFileDurable } from '../util/atomic-fs.ts';
import { buildItems, checkSources, imagesNeeded, raterOrder, type RawImage } from '../rating/builder.ts';
import { loadRealImages, type ImageSet } from '../rating/sample-source.ts';
import { generateFromRun } from '../evaluation/generate.ts';
import { loadDatasetCache } from '../datasets/cache.ts';
import { computeResults, type MetricRow } from '../rating/results.ts';
import { answerKindOf, type AnswerRow, type ItemRow } from '../rating/model.ts';
import { staircaseReplay, staircaseStart } from '../rating/stats.ts';
import { exportRaterKit, parseKitAnswers } from '../rating/kit.ts';

type CreateInput = z.output<typeof RatingCreateRequestSchema>;

export interface RatingServiceOptions {
  db: Db;
  home: string;
  emit: (e: StudioEvent) => void;
}

const bad = (m: string, details?: Record<string, unknown>) => new ApiError('invalid_input', m, details);

export class RatingService {
  readonly #db: Db;
  readonly dir: string;
  readonly #emit: (e: StudioEvent) => void;
  /** sessions being prepared, by id, so a delete can cancel them */
  readonly #preparing = new Map<string, AbortController>();

  constructor(o: RatingServiceOptions) {
    this.#db = o.db;
    this.dir = path.join(o.home, 'ratings');
    this.#emit = o.emit;
  }

  /** Removes what an interrupted creation left: temp folders and folders without a session row. */
  async sweep(): Promise<string[]> {
    const names = await fsp.readdir(this.dir).catch(() => [] as string[]);
    const known = new Set(repo.sessionIds(this.#db));
    const removed: string[] = [];
    for (const n of names) {
      if (n.startsWith('.tmp-') || !known.has(n)) {
        await fsp.rm(path.join(this.dir, n), { recursive: true, force: true });
        removed.push(n);
      }
    }
    return removed;
  }

  sessionDir(id: string): string {
    return path.join(this.dir, id);
  }

  get(id: string): RatingSession {
    const s = repo.getSession(this.#db, id);
    if (!s) throw new ApiError('not_found', `rating session ${id} not found`);
    return s;
  }

  list(runId?: string): RatingSession[] {
    const all = repo.listSessions(this.#db);
    return runId === undefined ? all : all.filter((s) => s.sources.some((src) => src.runId === runId));
  }

  async create(req: CreateInput): Promise<RatingSession> {
    const id = `rs-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
    const abort = new AbortController();
    this.#preparing.set(id, abort);
    const progress = (phase: 'sampling' | 'real' | 'attention' | 'writing' | 'done', done: number, total: number) => this.#emit({ type: 'rating.progress', sessionId: id, phase, done, total });
    const tmp = path.join(this.dir, `.tmp-${id}`);
    try {
      const names = new Set<string>();
      for (const r of req.raters) {
        if (names.has(r)) throw bad(`rater "${r}" is listed twice`);
        names.add(r);
      }
      let staircase = null;
      if (req.type === 'timed_real_fake') {
        staircase = StaircaseOptionsSchema.parse(req.staircase ?? {});
        if (!(staircase.floorMs <= staircase.startMs && staircase.startMs <= staircase.ceilingMs)) {
          throw bad(`the staircase must start between its floor and ceiling: floor ${staircase.floorMs} ms, start ${staircase.startMs} ms, ceiling ${staircase.ceilingMs} ms`);
        }
      } else if (req.staircase) throw bad('staircase options apply to timed_real_fake sessions only');

      // resolve the sources
      const sources: RatingSource[] = [];
      const runInfo = new Map<string, { runDir: string; config: z.output<typeof RunConfigSchema>; datasetDir: string; shape: { layout: 'images' | 'paired' | 'unpaired' | 'points'; height: number; width: number; channels: number; count: number; classes: number | null } }>();
      req.sources.forEach((spec, i) => {
        const sid = `s${i}`;
        if (spec.kind === 'checkpoint') {
          const run = getRunDetail(this.#db, spec.runId);
          if (!run) throw new ApiError('not_found', `run ${spec.runId} not found`);
          const runDir = getRunDir(this.#db, spec.runId)!;
          const ds = getDataset(this.#db, run.datasetId);
          const datasetDir = getDatasetDir(this.#db, run.datasetId);
          if (!ds || !datasetDir) throw new ApiError('not_found', `the dataset ${run.datasetId} of run ${spec.runId} is gone`);
          if (spec.step !== undefined && !run.checkpoints.some((c) => c.step === spec.step)) {
            throw new ApiError('not_found', `run ${spec.runId} has no checkpoint at step ${spec.step}${run.checkpoints.length ? ` (it has ${run.checkpoints.map((c) => c.step).join(', ')})` : ''}`);
          }
          runInfo.set(sid, {
            runDir,
            config: run.config,
            datasetDir,
            shape: { layout: ds.layout, height: ds.height, width: ds.width, channels: ds.channels, count: ds.count, classes: ds.classNames ? ds.classNames.length : null },
          });
          sources.push({ id: sid, kind: 'checkpoint', runId: spec.runId, step: spec.step ?? null, datasetId: run.datasetId, split: null, label: spec.label ?? run.name });
        } else {
          const ds = getDataset(this.#db, spec.datasetId);
          if (!ds || !getDatasetDir(this.#db, spec.datasetId)) throw new ApiError('not_found', `dataset ${spec.datasetId} not found`);
          sources.push({ id: sid, kind: 'real', runId: null, step: null, datasetId: spec.datasetId, split: 'holdout', label: spec.label ?? `${ds.name} (real)` });
        }
      });
      checkSources(req.type, sources);
      const keys = new Set<string>();
      for (const s of sources) {
        const key = `${s.kind}:${s.runId ?? ''}:${s.step ?? 'latest'}:${s.kind === 'real' ? s.datasetId : ''}`;
        if (keys.has(key)) throw bad(`source ${s.label} is listed twice`);
        keys.add(key);
      }

      const spec = { type: req.type, items: req.items, attentionShare: req.attentionShare, gridSize: req.gridSize, neighbours: req.neighbours };
      const need = imagesNeeded(spec, sources);
      const notes: string[] = [];
      const pools = new Map<string, ImageSet>();
      const training = new Map<string, ImageSet>();
      const totalFake = [...need.perSource.entries()].filter(([sid]) => sources.find((s) => s.id === sid)!.kind === 'checkpoint').reduce((a, [, c]) => a + c, 0);
      let doneFake = 0;
      progress('sampling', 0, totalFake);
      for (const [i, s] of sources.entries()) {
        if (abort.signal.aborted) throw new ApiError('conflict', `rating session ${id} was cancelled while it was being prepared`);
        if (s.kind === 'checkpoint') {
          const info = runInfo.get(s.id)!;
          const count = need.perSource.get(s.id)!;
          const base = doneFake;
          // the evaluation module's generator (one for the whole studio); small batches keep the core responsive
          const { step, generated } = await generateFromRun({
            runId: s.runId!,
            runDir: info.runDir,
            config: info.config,
            shape: info.shape,
            step: s.step ?? undefined,
            n: count,
            batchSize: 16,
            seed: (req.seed * 7919 + i * 104729) >>> 0,
            signal: abort.signal,
            onProgress: (d) => progress('sampling', base + d, totalFake),
          }).catch((err: unknown) => {
            if ((err as Error).name === 'AbortError') throw new ApiError('conflict', `rating session ${id} was cancelled while it was being prepared`);
            throw err;
          });
          const images: ImageSet = { width: generated.width, height: generated.height, channels: generated.channels as 1 | 3, count: generated.count, pixels: generated.images };
          doneFake += count;
          s.step = step;
          if (!req.sources[i]!.label) s.label = `${s.label} @ ${step}`;
          pools.set(s.id, images);
          if (req.type === 'memorisation') {
            const data = await loadDatasetCache(info.datasetDir);
            if (!data.images) throw bad(`the dataset of run ${s.runId} holds no images`);
            training.set(s.id, { width: data.manifest.width, height: data.manifest.height, channels: data.manifest.channels, count: data.manifest.count, pixels: data.images });
          }
        } else {
          progress('real', 0, 1);
          const real = await loadRealImages(getDatasetDir(this.#db, s.datasetId)!);
          s.split = real.split;
          if (real.split === 'train') notes.push(`${s.label}: the dataset has no held-out split, so its training images are the real set (a generator that memorised them would look real)`);
          pools.set(s.id, real.images);
          progress('real', 1, 1);
        }
      }
      const shapes = new Set([...pools.values()].map((p) => `${p.width}×${p.height}×${p.channels}`));
      if (shapes.size > 1) throw bad(`the sources differ in image size (${[...shapes].join(' vs ')}); a blinded comparison needs images of one size`);

      progress('attention', 0, 1);
      const built = buildItems({ spec, sources, pools, training, seed: req.seed });
      notes.push(...built.notes);
      await fsp.mkdir(path.join(tmp, 'img'), { recursive: true });
      const items: ItemRow[] = [];
      const hashLines: string[] = [];
      let written = 0;
      const totalFiles = built.items.reduce((a, it) => a + it.images.length, 0);
      for (const [ord, it] of built.items.entries()) {
        if (abort.signal.aborted) throw new ApiError('conflict', `rating session ${id} was cancelled while it was being prepared`);
        const files: string[] = [];
        const hashes: string[] = [];
        for (const img of it.images) {
          const png = await encodePng(img);
          const name = `${crypto.randomBytes(8).toString('hex')}.png`;
          await writeFileDurable(path.join(tmp, 'img', name), png);
          files.push(name);
          hashes.push(sha256(png));
          written++;
          if (written % 20 === 0) progress('writing', written, totalFiles);
        }
        items.push({ itemId: it.itemId, ord, attention: it.attention, truth: it.truth, files });
        hashLines.push(`${it.itemId}:${hashes.join(',')}`);
      }
      await fsyncDir(path.join(tmp, 'img'));
      const itemsHash = sha256(hashLines.join('\n'));
      const session: repo.NewSession = {
        id,
        name: req.name ?? `${RATING_TYPE_INFO[req.type].label} · ${sources.map((s) => s.label).join(' vs ')}`.slice(0, 200),
        type: req.type,
        spec: {
          question: req.question ?? RATING_TYPE_INFO[req.type].question,
          seed: req.seed,
          items: req.items,
          attentionShare: req.attentionShare,
          staircase,
          gridSize: req.type === 'duplicates' ? req.gridSize : null,
          neighbours: req.type === 'memorisation' ? req.neighbours : null,
          breakEvery: req.breakEvery,
          notes,
        },
        sources,
        itemsHash,
        createdAt: Date.now(),
        items,
        raters: req.raters.map((name) => ({ name, order: raterOrder(items.map((i) => i.itemId), req.seed, name) })),
      };
      await fsp.mkdir(this.dir, { recursive: true });
      await fsp.rename(tmp, this.sessionDir(id));
      await fsyncDir(this.dir);
      try {
        repo.insertSession(this.#db, session);
      } catch (err) {
        await fsp.rm(this.sessionDir(id), { recursive: true, force: true });
        throw err;
      }
      progress('done', totalFiles, totalFiles);
      const out = this.get(id);
      this.#emit({ type: 'rating.session', sessionId: id, session: out });
      return out;
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    } finally {
      this.#preparing.delete(id);
    }
  }

  /** Cancels the creations in flight (used on close). */
  cancelAll(): void {
    for (const a of this.#preparing.values()) a.abort();
  }

  addRater(sessionId: string, rater: string): RatingSession {
    const s = this.get(sessionId);
    if (s.raters.some((r) => r.name === rater)) throw new ApiError('conflict', `rater "${rater}" is already part of session ${sessionId}`);
    const items = repo.listItems(this.#db, sessionId);
    this.#db.transaction(() => {
      repo.insertRater(this.#db, sessionId, rater, raterOrder(items.map((i) => i.itemId), s.seed, rater), Date.now());
      if (s.state === 'finished') repo.reopenSession(this.#db, sessionId);
    })();
    return this.#changed(sessionId);
  }

  #changed(sessionId: string): RatingSession {
    const s = this.get(sessionId);
    this.#emit({ type: 'rating.session', sessionId, session: s });
    return s;
  }

  #rater(s: RatingSession, rater: string): { progress: RaterProgress; order: string[] } {
    const r = repo.getRater(this.#db, s.id, rater);
    const progress = s.raters.find((x) => x.name === rater);
    if (!r || !progress) throw new ApiError('not_found', `rater "${rater}" is not part of session ${s.id} (raters: ${s.raters.map((x) => x.name).join(', ')}); add them first`);
    return { progress, order: r.order };
  }

  /** The exposure the staircase asks for on `item` given the rater's earlier answers in its block. */
  #requestedExposure(s: RatingSession, item: ItemRow, mine: readonly AnswerRow[], byId: Map<string, ItemRow>): number | null {
    if (s.type !== 'timed_real_fake' || !s.staircase) return null;
    const t = item.truth;
    if (t.kind !== 'real_fake' || t.block === null) return s.staircase.startMs;
    const outcomes = mine
      .filter((a) => {
        const it = byId.get(a.itemId);
        return it && it.truth.kind === 'real_fake' && it.truth.block === t.block;
      })
      .sort((a, b) => a.position - b.position)
      .map((a) => a.answer.kind === 'real_fake' && (byId.get(a.itemId)!.truth as { truth: string }).truth === a.answer.choice);
    return outcomes.length ? staircaseReplay(s.staircase, outcomes).exposureMs : staircaseStart(s.staircase).exposureMs;
  }

  async next(sessionId: string, rater: string): Promise<{ item: RatingItem | null; rater: RaterProgress }> {
    const s = this.get(sessionId);
    const { progress, order } = this.#rater(s, rater);
    if (progress.state === 'finished') return { item: null, rater: progress };
    const mine = repo.listAnswers(this.#db, sessionId, rater);
    const answered = new Set(mine.map((a) => a.itemId));
    const position = order.findIndex((idx) => !answered.has(idx));
    if (position < 0) return { item: null, rater: progress };
    const items = repo.listItems(this.#db, sessionId);
    const byId = new Map(items.map((i) => [i.itemId, i]));
    const item = byId.get(order[position]!)!;
    const images = await Promise.all(
      item.files.map(async (f) => {
        const png = await fsp.readFile(path.join(this.sessionDir(sessionId), 'img', f)).catch(() => {
          throw new ApiError('not_found', `an image of session ${sessionId} is missing from its folder (${f}); the session cannot continue`);
        });
        return { dataUrl: `data:image/png;base64,${png.toString('base64')}`, width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
      }),
    );
    return {
      item: {
        sessionId,
        type: s.type,
        itemId: item.itemId,
        position,
        total: order.length,
        question: s.question,
        images,
        exposureMs: this.#requestedExposure(s, item, mine, byId),
        breakSuggested: position > 0 && position % s.breakEvery === 0,
      },
      rater: progress,
    };
  }

  /** Checks one answer against the session; returns the row to store. */
  #checkAnswer(s: RatingSession, rater: string, order: string[], byId: Map<string, ItemRow>, mine: readonly AnswerRow[], a: { itemId: string; answer: RatingAnswerValue; responseMs: number; exposureMs?: number | null }, origin: 'app' | 'kit', at: number): AnswerRow {
    const item = byId.get(a.itemId);
    if (!item) throw bad(`item ${a.itemId} is not part of session ${s.id}`);
    const want = answerKindOf(s.type);
    if (a.answer.kind !== want) throw bad(`session ${s.id} is a ${s.type} session and takes "${want}" answers, got "${a.answer.kind}" for item ${a.itemId}`);
    if (mine.some((m) => m.itemId === a.itemId)) throw new ApiError('conflict', `rater "${rater}" has already answered item ${a.itemId}`);
    if (a.answer.kind === 'duplicates') {
      const outside = a.answer.marked.filter((c) => c >= item.files.length);
      if (outside.length) throw bad(`item ${a.itemId} has ${item.files.length} cells; marked cell ${outside[0]} does not exist`);
    }
    let requestedMs: number | null = null;
    if (s.type === 'timed_real_fake') {
      if (a.exposureMs === undefined || a.exposureMs === null) throw bad(`a timed session needs the measured exposure (exposureMs) of item ${a.itemId}`);
      requestedMs = this.#requestedExposure(s, item, mine, byId);
    }
    return {
      rater,
      itemId: a.itemId,
      position: order.indexOf(a.itemId),
      answer: a.answer,
      responseMs: a.responseMs,
      requestedMs,
      exposureMs: s.type === 'timed_real_fake' ? (a.exposureMs ?? null) : null,
      origin,
      answeredAt: at,
    };
  }

  answer(input: { sessionId: string; rater: string; itemId: string; answer: RatingAnswerValue; responseMs: number; exposureMs?: number }): { rater: RaterProgress } {
    const s = this.get(input.sessionId);
    const { progress, order } = this.#rater(s, input.rater);
    if (progress.state === 'finished') throw new ApiError('conflict', `rater "${input.rater}" has finished session ${s.id}; their answers are final`);
    const byId = new Map(repo.listItems(this.#db, s.id).map((i) => [i.itemId, i]));
    this.#db.transaction(() => {
      const mine = repo.listAnswers(this.#db, s.id, input.rater);
      repo.insertAnswer(this.#db, s.id, this.#checkAnswer(s, input.rater, order, byId, mine, input, 'app', Date.now()));
    })();
    const after = this.get(s.id);
    return { rater: after.raters.find((r) => r.name === input.rater)! };
  }

  /** Takes back the rater's last answer (the app's Z / Backspace); refused once the rater has finished. */
  undo(sessionId: string, rater: string): { itemId: string; rater: RaterProgress } {
    const s = this.get(sessionId);
    const { progress } = this.#rater(s, rater);
    if (progress.state === 'finished') throw new ApiError('conflict', `rater "${rater}" has finished session ${s.id}; their answers are final`);
    const itemId = this.#db.transaction(() => repo.deleteLastAnswer(this.#db, s.id, rater))();
    if (itemId === null) throw new ApiError('conflict', `rater "${rater}" has no answer in session ${s.id} to take back`);
    const after = this.get(s.id);
    return { itemId, rater: after.raters.find((r) => r.name === rater)! };
  }

  finishRater(sessionId: string, rater: string): RatingSession {
    const s = this.get(sessionId);
    const { progress } = this.#rater(s, rater);
    if (progress.state === 'finished') return s;
    if (progress.answered < progress.total) throw new ApiError('conflict', `rater "${rater}" has answered ${progress.answered} of ${progress.total} items; a rater finishes only after the last one`);
    this.#db.transaction(() => repo.finishRater(this.#db, sessionId, rater, Date.now()))();
    return this.#changed(sessionId);
  }

  results(sessionId: string, opts: { excludeUnreliable?: boolean; rounds?: number } = {}): RatingResults {
    const s = this.get(sessionId);
    return computeResults(s, repo.listItems(this.#db, sessionId), repo.listAnswers(this.#db, sessionId), {
      excludeUnreliable: opts.excludeUnreliable,
      rounds: opts.rounds ?? 1000,
      metrics: this.#metricRows(s),
    });
  }

  /**
   * Automatic metrics of the session's checkpoints from stored evaluations (issue 6), when that
   * table exists: the newest final evaluation of each run at the source's step, and only under the
   * protocol most of them share (two numbers are compared only when comparable).
   */
  #metricRows(s: RatingSession): MetricRow[] {
    const has = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evaluations'").get();
    if (!has) return [];
    const picks: { sourceId: string; protocol: string; scores: Record<string, unknown> }[] = [];
    for (const src of s.sources) {
      if (src.kind !== 'checkpoint' || src.runId === null) continue;
      const rows = this.#db
        .prepare('SELECT protocol_key, scores FROM evaluations WHERE run_id = ? AND step = ? AND during_training = 0 ORDER BY created_at DESC')
        .all(src.runId, src.step) as { protocol_key: string; scores: string }[];
      for (const r of rows) picks.push({ sourceId: src.id, protocol: r.protocol_key, scores: JSON.parse(r.scores) as Record<string, unknown> });
    }
    if (picks.length === 0) return [];
    const count = new Map<string, Set<string>>();
    for (const p of picks) count.set(p.protocol, (count.get(p.protocol) ?? new Set()).add(p.sourceId));
    const protocol = [...count.entries()].sort((a, b) => b[1].size - a[1].size)[0]![0];
    const out: MetricRow[] = [];
    const seen = new Set<string>();
    for (const p of picks) {
      if (p.protocol !== protocol || seen.has(p.sourceId)) continue;
      seen.add(p.sourceId);
      for (const [metric, value, higherIsBetter] of scalarMetrics(p.scores)) out.push({ sourceId: p.sourceId, metric, value, higherIsBetter });
    }
    return out;
  }

  /** One row per rater and item with the sources revealed (CSV), or the results with every answer (JSON). */
  export(sessionId: string, format: 'csv' | 'json'): { fileName: string; mimeType: string; text: string } {
    const s = this.get(sessionId);
    const items = repo.listItems(this.#db, sessionId);
    const answers = repo.listAnswers(this.#db, sessionId);
    const byId = new Map(items.map((i) => [i.itemId, i]));
    const label = new Map(s.sources.map((x) => [x.id, x.label]));
    if (format === 'json') {
      const results = this.results(sessionId);
      const text = JSON.stringify({ session: s, results, items: items.map((i) => ({ itemId: i.itemId, attention: i.attention, truth: i.truth })), answers }, null, 2);
      return { fileName: `${sessionId}.json`, mimeType: 'application/json', text };
    }
    const header = ['session_id', 'type', 'rater', 'item_id', 'position', 'attention', 'sources', 'truth', 'answer', 'response_ms', 'requested_ms', 'exposure_ms', 'origin', 'answered_at'];
    const lines = [header.join(',')];
    for (const a of answers) {
      const it = byId.get(a.itemId)!;
      const t = it.truth;
      const srcs = t.kind === 'preference' ? [t.left, t.right] : [t.sourceId];
      const truth = t.kind === 'real_fake' ? t.truth : t.kind === 'preference' ? (t.better ?? '') : t.kind === 'duplicates' ? t.duplicateCells.join(' ') : t.kind === 'memorisation' ? (t.copy === null ? '' : String(t.copy)) : '';
      const ans = a.answer.kind === 'real_fake' || a.answer.kind === 'preference' ? a.answer.choice : a.answer.kind === 'quality' ? String(a.answer.score) : a.answer.kind === 'duplicates' ? a.answer.marked.join(' ') : String(a.answer.copy);
      lines.push(
        [s.id, s.type, a.rater, a.itemId, a.position, it.attention ? 1 : 0, srcs.map((x) => label.get(x) ?? x).join(' | '), truth, ans, a.responseMs, a.requestedMs ?? '', a.exposureMs ?? '', a.origin, new Date(a.answeredAt).toISOString()]
          .map(csvCell)
          .join(','),
      );
    }
    return { fileName: `${sessionId}.csv`, mimeType: 'text/csv', text: `${lines.join('\n')}\n` };
  }

  async exportKit(sessionId: string, rater: string, dir?: string): Promise<{ path: string; files: number; bytes: number; itemsHash: string }> {
    const s = this.get(sessionId);
    const { progress, order } = this.#rater(s, rater);
    if (progress.state === 'finished') throw new ApiError('conflict', `rater "${rater}" has already finished session ${sessionId}`);
    const items = repo.listItems(this.#db, sessionId);
    const target = dir ? path.resolve(dir) : path.join(this.sessionDir(sessionId), 'kits', safeFolderName(rater));
    return exportRaterKit({ session: s, rater, order, items, imageDir: path.join(this.sessionDir(sessionId), 'img'), target });
  }

  /** Validates a kit's answers file against its session and stores every answer in one transaction. */
  importAnswers(text: string): { sessionId: string; rater: string; imported: number; session: RatingSession } {
    const file = parseKitAnswers(text);
    const s = repo.getSession(this.#db, file.sessionId);
    if (!s) throw bad(`the answers file belongs to session ${file.sessionId}, which does not exist here`);
    if (file.itemsHash !== s.itemsHash) throw bad(`the answers file does not match session ${s.id}: its item list hash ${file.itemsHash.slice(0, 12)}… differs from the session's ${s.itemsHash.slice(0, 12)}…`);
    if (file.type !== s.type) throw bad(`the answers file is for a ${file.type} session; session ${s.id} is ${s.type}`);
    const { progress, order } = this.#rater(s, file.rater);
    if (progress.state === 'finished') throw new ApiError('conflict', `rater "${file.rater}" has already finished session ${s.id}; their answers are final`);
    const byId = new Map(repo.listItems(this.#db, s.id).map((i) => [i.itemId, i]));
    const unknown = file.answers.filter((a) => !byId.has(a.itemId));
    if (unknown.length) throw bad(`the answers file names ${unknown.length} item(s) that are not part of session ${s.id} (first: ${unknown[0]!.itemId})`);
    let imported = 0;
    this.#db.transaction(() => {
      const already = repo.listAnswers(this.#db, s.id, file.rater);
      const mine = [...already];
      // in the rater's order, so a timed session's staircase replays as it ran
      const sorted = [...file.answers].sort((a, b) => order.indexOf(a.itemId) - order.indexOf(b.itemId));
      for (const a of sorted) {
        const prior = already.find((m) => m.itemId === a.itemId);
        if (prior) {
          if (JSON.stringify(prior.answer) !== JSON.stringify(a.answer)) throw new ApiError('conflict', `item ${a.itemId} was already answered differently by "${file.rater}"`);
          continue;
        }
        const row = this.#checkAnswer(s, file.rater, order, byId, mine, a, 'kit', a.answeredAt ?? Date.now());
        repo.insertAnswer(this.#db, s.id, row);
        mine.push(row);
        imported++;
      }
      if (file.finished) {
        const total = order.length;
        if (mine.length === total) repo.finishRater(this.#db, s.id, file.rater, Date.now());
      }
    })();
    return { sessionId: s.id, rater: file.rater, imported, session: this.#changed(s.id) };
  }

  async delete(sessionId: string): Promise<void> {
    const pending = this.#preparing.get(sessionId);
    if (pending) {
      pending.abort();
      return;
    }
    this.get(sessionId);
    repo.deleteSession(this.#db, sessionId);
    await fsp.rm(this.sessionDir(sessionId), { recursive: true, force: true });
    this.#emit({ type: 'rating.session', sessionId, session: null });
  }

  /** Finished sessions that draw from the run, with the run's score in each. */
  forRun(runId: string): { session: RatingSession; scores: { sourceId: string; step: number | null; score: string; estimate: { value: number | null; low: number | null; high: number | null; n: number }; rank: number | null }[] }[] {
    return this.list(runId)
      .filter((s) => s.state === 'finished')
      .map((s) => {
        const r = this.results(s.id, { rounds: 200 });
        const scores = s.sources
          .filter((src) => src.runId === runId)
          .map((src) => {
            let estimate = { value: null as number | null, low: null as number | null, high: null as number | null, n: 0 };
            let rank: number | null = null;
            if (r.timed) estimate = r.timed.perSource.find((p) => p.sourceId === src.id)?.exposureMs ?? estimate;
            else if (r.realFake) estimate = r.realFake.perSource.find((p) => p.sourceId === src.id)?.errorOnFakes ?? estimate;
            else if (r.preference) {
              const p = r.preference.ranking.find((x) => x.sourceId === src.id)!;
              estimate = { value: p.rating, low: p.low, high: p.high, n: r.preference.comparisons[s.sources.findIndex((x) => x.id === src.id)]!.reduce((a, b) => a + b, 0) };
              rank = p.rank;
            } else if (r.quality) estimate = r.quality.find((p) => p.sourceId === src.id)?.meanZ ?? estimate;
            else if (r.duplicates) estimate = r.duplicates.find((p) => p.sourceId === src.id)?.duplicateRate ?? estimate;
            else if (r.memorisation) estimate = r.memorisation.find((p) => p.sourceId === src.id)?.copyRate ?? estimate;
            return { sourceId: src.id, step: src.step, score: r.humanScore, estimate, rank };
          });
        return { session: s, scores };
      });
  }
}

function scalarMetrics(scores: Record<string, unknown>): [string, number, boolean][] {
  const out: [string, number, boolean][] = [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const sub = (k: string, f: string) => num((scores[k] as Record<string, unknown> | undefined)?.[f]);
  const add = (name: string, v: number | null, higher: boolean) => {
    if (v !== null) out.push([name, v, higher]);
  };
  add('fid', num(scores.fid), false);
  add('kid', sub('kid', 'mean'), false);
  add('is', sub('is', 'mean'), true);
  for (const k of ['precision', 'recall', 'f1', 'density', 'coverage']) add(k, num(scores[k]), true);
  add('swd', sub('swd', 'average'), false);
  add('prd_f8', sub('prd', 'f8'), true);
  add('prd_f1_8', sub('prd', 'f1_8'), true);
  return out;
}

function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function safeFolderName(name: string): string {
  const base = name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'rater';
  return `${base}-${crypto.createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
}

async function encodePng(img: RawImage): Promise<Buffer> {
  return sharp(Buffer.from(img.pixels.buffer, img.pixels.byteOffset, img.pixels.byteLength), { raw: { width: img.width, height: img.height, channels: img.channels } })
    .png()
    .toBuffer();
}

export type RatingMethods = Pick<
  ApiImplementation,
  | 'ratings.create'
  | 'ratings.undo'
  | 'ratings.list'
  | 'ratings.get'
  | 'ratings.addRater'
  | 'ratings.next'
  | 'ratings.answer'
  | 'ratings.finishRater'
  | 'ratings.results'
  | 'ratings.export'
  | 'ratings.exportKit'
  | 'ratings.importAnswers'
  | 'ratings.delete'
  | 'ratings.forRun'
>;

/** The ratings.* methods of the API over the service; spread into studio.ts's handler object. */
export function ratingApi(service: RatingService): RatingMethods {
  return {
    'ratings.create': async (req) => service.create(req),
    'ratings.list': async ({ runId }) => service.list(runId),
    'ratings.get': async ({ sessionId }) => service.get(sessionId),
    'ratings.addRater': async ({ sessionId, rater }) => service.addRater(sessionId, rater),
    'ratings.next': async ({ sessionId, rater }) => service.next(sessionId, rater),
    'ratings.answer': async (input) => service.answer(input),
    'ratings.undo': async ({ sessionId, rater }) => service.undo(sessionId, rater),
    'ratings.finishRater': async ({ sessionId, rater }) => service.finishRater(sessionId, rater),
    'ratings.results': async ({ sessionId, excludeUnreliable, bootstrap }) => service.results(sessionId, { excludeUnreliable, rounds: bootstrap }),
    'ratings.export': async ({ sessionId, format }) => service.export(sessionId, format),
    'ratings.exportKit': async ({ sessionId, rater, dir }) => service.exportKit(sessionId, rater, dir),
    'ratings.importAnswers': async ({ text }) => service.importAnswers(text),
    'ratings.delete': async ({ sessionId }) => {
      await service.delete(sessionId);
      return { deleted: true as const, sessionId };
    },
    'ratings.forRun': async ({ runId }) => service.forRun(runId),
  };
}

