// Results of a rating session from its stored items and answers (pure: no I/O). Only finished
// raters count; while others are at work the results say so (`complete: false`).
import type { RatingResults, RatingSession, RatingSource, RaterResult, Estimate } from '../../common/api-rating.ts';
import {
  bradleyTerryWithIntervals,
  elo,
  fleissKappa,
  kendall,
  krippendorffAlpha,
  mean,
  meanEstimate,
  rankDescending,
  realFakeErrors,
  spearman,
  staircaseScore,
  winRateMatrix,
  zScoresByRater,
  type AlphaLevel,
  type Comparison,
  type RealFakeJudgement,
} from './stats.ts';
import type { AnswerRow, ItemRow, ItemTruth } from './model.ts';

/** A rater who passes fewer attention checks than this is flagged unreliable. */
export const RELIABILITY_THRESHOLD = 0.75;

export interface MetricRow {
  sourceId: string;
  metric: string;
  value: number;
  /** higher is better for this metric (FID: false) */
  higherIsBetter: boolean;
}

export interface ResultsOptions {
  excludeUnreliable?: boolean;
  rounds?: number;
  seed?: number;
  /** automatic metric values per checkpoint source, for the rank correlation */
  metrics?: MetricRow[];
  now?: number;
}

/** Whether an attention item was answered as an attentive rater would. */
export function attentionPassed(truth: ItemTruth, answer: AnswerRow['answer']): boolean {
  switch (truth.kind) {
    case 'real_fake':
      return answer.kind === 'real_fake' && answer.choice === truth.truth;
    case 'preference':
      return answer.kind === 'preference' && answer.choice === truth.better;
    case 'quality':
      return answer.kind === 'quality' && answer.score <= 2;
    case 'duplicates': {
      if (answer.kind !== 'duplicates') return false;
      const marked = new Set(answer.marked);
      return truth.duplicateCells.every((c) => marked.has(c));
    }
    case 'memorisation':
      return answer.kind === 'memorisation' && answer.copy === truth.copy;
  }
}

export function computeResults(session: RatingSession, items: readonly ItemRow[], answers: readonly AnswerRow[], options: ResultsOptions = {}): RatingResults {
  const rounds = options.rounds ?? 1000;
  const seed = options.seed ?? session.seed;
  const itemById = new Map(items.map((i) => [i.itemId, i]));
  const finished = new Set(session.raters.filter((r) => r.state === 'finished').map((r) => r.name));

  // per-rater figures over everything they answered
  const raterResults: RaterResult[] = session.raters.map((r) => {
    const mine = answers.filter((a) => a.rater === r.name);
    const attention = mine.filter((a) => itemById.get(a.itemId)?.attention);
    const passed = attention.filter((a) => attentionPassed(itemById.get(a.itemId)!.truth, a.answer)).length;
    const scored = mine.filter((a) => !itemById.get(a.itemId)?.attention);
    let accuracy: number | null = null;
    if (session.type === 'real_fake' || session.type === 'timed_real_fake') {
      const rf = scored.filter((a) => a.answer.kind === 'real_fake');
      accuracy = rf.length ? rf.filter((a) => a.answer.kind === 'real_fake' && itemById.get(a.itemId)!.truth.kind === 'real_fake' && a.answer.choice === (itemById.get(a.itemId)!.truth as { truth: string }).truth).length / rf.length : null;
    }
    const q = scored.flatMap((a) => (a.answer.kind === 'quality' ? [a.answer.score] : []));
    const qm = mean(q);
    const qs = q.length > 1 && qm !== null ? Math.sqrt(q.reduce((s, v) => s + (v - qm) ** 2, 0) / (q.length - 1)) : null;
    return {
      name: r.name,
      state: r.state,
      answered: mine.length,
      accuracy,
      attentionPassed: passed,
      attentionTotal: attention.length,
      reliable: attention.length === 0 || passed / attention.length >= RELIABILITY_THRESHOLD,
      meanResponseMs: mean(mine.map((a) => a.responseMs)),
      qualityMean: qm,
      qualityStd: qs,
    };
  });
  const excluded = options.excludeUnreliable ? raterResults.filter((r) => !r.reliable).map((r) => r.name) : [];
  const counted = new Set([...finished].filter((n) => !excluded.includes(n)));
  const scoredAnswers = answers.filter((a) => counted.has(a.rater) && itemById.has(a.itemId) && !itemById.get(a.itemId)!.attention);
  const checkpointSources = session.sources.filter((s) => s.kind === 'checkpoint');

  const base: RatingResults = {
    sessionId: session.id,
    type: session.type,
    complete: session.state === 'finished',
    ratersFinished: finished.size,
    ratersTotal: session.raters.length,
    excludedRaters: excluded,
    sources: session.sources,
    raters: raterResults,
    realFake: null,
    timed: null,
    preference: null,
    quality: null,
    duplicates: null,
    memorisation: null,
    agreement: { fleissKappa: null, krippendorffAlpha: null, alphaLevel: 'nominal', items: 0, raters: 0 },
    automatic: [],
    humanScore: '',
    computedAt: options.now ?? Date.now(),
  };
  /** the human score per checkpoint source, oriented so that higher = better (for the correlation) */
  let humanPerSource = new Map<string, number>();

  if (session.type === 'real_fake' || session.type === 'timed_real_fake') {
    const judgements: (RealFakeJudgement & { sourceId: string })[] = [];
    for (const a of scoredAnswers) {
      const t = itemById.get(a.itemId)!.truth;
      if (t.kind !== 'real_fake' || a.answer.kind !== 'real_fake') continue;
      judgements.push({ rater: a.rater, item: a.itemId, truth: t.truth, choice: a.answer.choice, sourceId: t.sourceId });
    }
    const all = realFakeErrors(judgements, { rounds, seed });
    const perSource = checkpointSources.map((s, i) => ({
      sourceId: s.id,
      label: s.label,
      errorOnFakes: realFakeErrors(
        judgements.filter((j) => j.sourceId === s.id),
        { rounds, seed: seed + 10 + i },
      ).onFakes,
    }));
    base.realFake = { errorOnFakes: all.onFakes, errorOnReals: all.onReals, errorOverall: all.overall, perSource };
    base.humanScore = 'error on fakes (fakes judged real; 50 % = indistinguishable)';
    humanPerSource = new Map(perSource.filter((p) => p.errorOnFakes.value !== null).map((p) => [p.sourceId, p.errorOnFakes.value!]));
    if (session.type === 'timed_real_fake') {
      const perRaterBlock = new Map<string, { rater: string; block: string; history: { position: number; ms: number }[] }>();
      for (const a of scoredAnswers) {
        const t = itemById.get(a.itemId)!.truth;
        if (t.kind !== 'real_fake' || t.block === null || a.requestedMs === null) continue;
        const key = `${a.rater}\u0000${t.block}`;
        const e = perRaterBlock.get(key) ?? { rater: a.rater, block: t.block, history: [] };
        e.history.push({ position: a.position, ms: a.requestedMs });
        perRaterBlock.set(key, e);
      }
      const timedPer = checkpointSources.map((s, i) => {
        const obs = [...perRaterBlock.values()]
          .filter((e) => e.block === s.id)
          .map((e) => ({ rater: e.rater, item: 'staircase', value: staircaseScore(e.history.sort((x, y) => x.position - y.position).map((h) => h.ms))! }));
        return { sourceId: s.id, label: s.label, exposureMs: meanEstimate(obs, { rounds, seed: seed + 30 + i }) };
      });
      const diffs = answers.filter((a) => a.requestedMs !== null && a.exposureMs !== null).map((a) => Math.abs(a.exposureMs! - a.requestedMs!));
      base.timed = { perSource: timedPer, exposureErrorMs: { mean: mean(diffs), max: diffs.length ? Math.max(...diffs) : null } };
      base.humanScore = 'mean exposure (ms) at convergence of the staircase; lower = harder to tell apart';
      // a generator whose fakes need a longer look to be caught is better: higher exposure = better
      humanPerSource = new Map(timedPer.filter((p) => p.exposureMs.value !== null).map((p) => [p.sourceId, p.exposureMs.value!]));
    }
    base.agreement = agreementOf(scoredAnswers, counted, 'nominal', (a) => (a.answer.kind === 'real_fake' ? (a.answer.choice === 'real' ? 1 : 0) : null), 2);
  }

  if (session.type === 'preference') {
    const k = session.sources.length;
    const index = new Map(session.sources.map((s, i) => [s.id, i]));
    const comparisons: (Comparison & { rater: string; item: string; at: number })[] = [];
    for (const a of scoredAnswers) {
      const t = itemById.get(a.itemId)!.truth;
      if (t.kind !== 'preference' || a.answer.kind !== 'preference') continue;
      const outcome = a.answer.choice === 'left' ? 1 : a.answer.choice === 'right' ? 0 : 0.5;
      comparisons.push({ a: index.get(t.left)!, b: index.get(t.right)!, outcome, rater: a.rater, item: a.itemId, at: a.answeredAt });
    }
    comparisons.sort((x, y) => x.at - y.at);
    const bt = bradleyTerryWithIntervals(k, comparisons, { rounds, seed });
    const e = elo(k, comparisons);
    const ranks = rankDescending(bt.rating);
    const { winRate, games } = winRateMatrix(k, comparisons);
    base.preference = {
      ranking: session.sources
        .map((s, i) => ({ sourceId: s.id, label: s.label, rank: ranks[i]!, rating: bt.rating[i]!, low: bt.low[i] ?? null, high: bt.high[i] ?? null, elo: e[i]! }))
        .sort((x, y) => x.rank - y.rank),
      winRate,
      comparisons: games,
      ties: comparisons.filter((c) => c.outcome === 0.5).length,
    };
    base.humanScore = 'Bradley–Terry rating (1000 + 400·log10 strength)';
    humanPerSource = new Map(session.sources.map((s, i) => [s.id, bt.rating[i]!]));
    base.agreement = agreementOf(scoredAnswers, counted, 'nominal', (a) => (a.answer.kind === 'preference' ? ({ left: 0, right: 1, tie: 2 } as const)[a.answer.choice] : null), 3);
  }

  if (session.type === 'quality') {
    const rows = scoredAnswers.flatMap((a) => {
      const t = itemById.get(a.itemId)!.truth;
      return t.kind === 'quality' && a.answer.kind === 'quality' ? [{ rater: a.rater, item: a.itemId, value: a.answer.score, sourceId: t.sourceId }] : [];
    });
    const { z } = zScoresByRater(rows);
    const withZ = rows.map((r, i) => ({ ...r, z: z[i]! }));
    base.quality = session.sources.map((s, i) => {
      const mine = withZ.filter((r) => r.sourceId === s.id);
      return {
        sourceId: s.id,
        label: s.label,
        mean: meanEstimate(mine, { rounds, seed: seed + 50 + i }),
        meanZ: meanEstimate(
          mine.map((r) => ({ rater: r.rater, item: r.item, value: r.z })),
          { rounds, seed: seed + 70 + i },
        ),
        counts: [1, 2, 3, 4, 5].map((score) => mine.filter((r) => r.value === score).length),
      };
    });
    base.humanScore = 'mean quality, z-normalised per rater';
    humanPerSource = new Map(base.quality.filter((q) => q.meanZ.value !== null).map((q) => [q.sourceId, q.meanZ.value!]));
    base.agreement = agreementOf(scoredAnswers, counted, 'ordinal', (a) => (a.answer.kind === 'quality' ? a.answer.score : null), 5);
  }

  if (session.type === 'duplicates') {
    base.duplicates = session.sources.map((s, i) => {
      const obs = scoredAnswers.flatMap((a) => {
        const it = itemById.get(a.itemId)!;
        if (it.truth.kind !== 'duplicates' || it.truth.sourceId !== s.id || a.answer.kind !== 'duplicates') return [];
        return [{ rater: a.rater, item: a.itemId, value: new Set(a.answer.marked.filter((c) => c < it.files.length)).size / it.files.length }];
      });
      return { sourceId: s.id, label: s.label, duplicateRate: meanEstimate(obs, { rounds, seed: seed + 90 + i }) };
    });
    base.humanScore = 'share of grid cells marked as near-duplicates (lower = more diverse)';
    humanPerSource = new Map(base.duplicates.filter((d) => d.duplicateRate.value !== null).map((d) => [d.sourceId, -d.duplicateRate.value!]));
    // agreement per cell: marked or not
    const cellAnswers = scoredAnswers.flatMap((a) => {
      const it = itemById.get(a.itemId)!;
      if (a.answer.kind !== 'duplicates') return [];
      const marked = new Set(a.answer.marked);
      return it.files.map((_, c) => ({ rater: a.rater, unit: `${a.itemId}#${c}`, value: marked.has(c) ? 1 : 0 }));
    });
    base.agreement = agreementFromUnits(cellAnswers, counted, 'nominal', 2);
  }

  if (session.type === 'memorisation') {
    base.memorisation = checkpointSources.map((s, i) => ({
      sourceId: s.id,
      label: s.label,
      copyRate: meanEstimate(
        scoredAnswers.flatMap((a) => {
          const t = itemById.get(a.itemId)!.truth;
          return t.kind === 'memorisation' && t.sourceId === s.id && a.answer.kind === 'memorisation' ? [{ rater: a.rater, item: a.itemId, value: a.answer.copy ? 1 : 0 }] : [];
        }),
        { rounds, seed: seed + 110 + i },
      ),
    }));
    base.humanScore = 'share of generated images judged copies of training images (lower = better)';
    humanPerSource = new Map(base.memorisation.filter((m) => m.copyRate.value !== null).map((m) => [m.sourceId, -m.copyRate.value!]));
    base.agreement = agreementOf(scoredAnswers, counted, 'nominal', (a) => (a.answer.kind === 'memorisation' ? (a.answer.copy ? 1 : 0) : null), 2);
  }

  base.automatic = correlateWithMetrics(humanPerSource, checkpointSources, options.metrics ?? []);
  return base;
}

/** Spearman and Kendall between the human score and each automatic metric, over the checkpoint sources that have both (metrics oriented so higher = better). */
export function correlateWithMetrics(human: Map<string, number>, sources: readonly RatingSource[], metrics: readonly MetricRow[]): RatingResults['automatic'] {
  const names = [...new Set(metrics.map((m) => m.metric))].sort();
  return names.map((metric) => {
    const pairs = sources.flatMap((s) => {
      const h = human.get(s.id);
      const m = metrics.find((r) => r.metric === metric && r.sourceId === s.id);
      return h === undefined || !m ? [] : [{ sourceId: s.id, human: h, metric: m.value, oriented: m.higherIsBetter ? m.value : -m.value }];
    });
    const hs = pairs.map((p) => p.human);
    const ms = pairs.map((p) => p.oriented);
    return { metric, pairs: pairs.map(({ sourceId, human: h, metric: v }) => ({ sourceId, human: h, metric: v })), spearman: pairs.length >= 3 ? spearman(hs, ms) : null, kendall: pairs.length >= 3 ? kendall(hs, ms) : null };
  });
}

function agreementOf(answers: readonly AnswerRow[], counted: Set<string>, level: AlphaLevel, code: (a: AnswerRow) => number | null, categories: number): RatingResults['agreement'] {
  return agreementFromUnits(
    answers.flatMap((a) => {
      const v = code(a);
      return v === null ? [] : [{ rater: a.rater, unit: a.itemId, value: v }];
    }),
    counted,
    level,
    categories,
  );
}

/** κ over units every counted rater answered; α over all pairable units (it handles missing values). */
function agreementFromUnits(rows: readonly { rater: string; unit: string; value: number }[], counted: Set<string>, level: AlphaLevel, categories: number): RatingResults['agreement'] {
  const raters = [...counted].sort();
  const units = [...new Set(rows.map((r) => r.unit))].sort();
  const none = { fleissKappa: null, krippendorffAlpha: null, alphaLevel: level, items: 0, raters: raters.length };
  if (raters.length < 2 || units.length === 0) return none;
  const ri = new Map(raters.map((r, i) => [r, i]));
  const ui = new Map(units.map((u, i) => [u, i]));
  const data: (number | null)[][] = raters.map(() => new Array<number | null>(units.length).fill(null));
  for (const r of rows) if (ri.has(r.rater)) data[ri.get(r.rater)!]![ui.get(r.unit)!] = r.value;
  const full = units.map((_, u) => u).filter((u) => data.every((row) => row[u] !== null));
  const minValue = level === 'ordinal' ? 1 : 0;
  const table = full.map((u) => {
    const counts = new Array<number>(categories).fill(0);
    for (const row of data) counts[row[u]! - minValue]! += 1;
    return counts;
  });
  return {
    fleissKappa: table.length ? fleissKappa(table) : null,
    krippendorffAlpha: krippendorffAlpha(data, level),
    alphaLevel: level,
    items: full.length,
    raters: raters.length,
  };
}

export type { Estimate };
