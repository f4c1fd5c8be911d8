// Pure helpers of the Evaluate page (issue 6): grouping stored evaluations by protocol so that
// only comparable scores share a table, naming what differs between two protocols, the score
// columns, and the metric-over-steps series. No runes, no DOM: unit-tested from Node.
import type { EvalMetric, EvaluationProtocol, EvaluationScores, EvaluationSummary, Extractor } from '../../../electron/common/api-evaluation.ts';
import { formatNumber } from './format.ts';

/** Evaluations measured under one protocol: their scores may be compared with each other. */
export interface ProtocolGroup {
  protocolKey: string;
  protocol: EvaluationProtocol;
  /** newest first, as listed */
  rows: EvaluationSummary[];
  /** what separates this group from the first (newest) group; empty for the first */
  differences: string[];
}

/**
 * Groups evaluations by `protocolKey` (the core's hash of the comparable part of the protocol),
 * keeping the listing's order: the group of the newest evaluation first. Each later group says
 * why it is not comparable with the first.
 */
export function groupByProtocol(rows: readonly EvaluationSummary[]): ProtocolGroup[] {
  const groups = new Map<string, ProtocolGroup>();
  for (const row of rows) {
    let g = groups.get(row.protocolKey);
    if (!g) groups.set(row.protocolKey, (g = { protocolKey: row.protocolKey, protocol: row.protocol, rows: [], differences: [] }));
    g.rows.push(row);
  }
  const list = [...groups.values()];
  for (const g of list.slice(1)) g.differences = protocolDifferences(list[0].protocol, g.protocol);
  return list;
}

const shortHash = (h: string | null): string => (h ? (h.includes(':') ? h : h.slice(0, 8)) : '–');

/**
 * The comparable parts of two protocols that differ, as short phrases ("N fake 500 vs 1000").
 * The seed is not among them: it draws the samples, it does not change the ruler.
 */
export function protocolDifferences(a: EvaluationProtocol, b: EvaluationProtocol): string[] {
  const out: string[] = [];
  if (a.extractorId !== b.extractorId) out.push(`extractor ${b.extractorId} vs ${a.extractorId}`);
  else {
    // another extractor implies its own weights, dimension and input: named only for the same one
    if (a.weightsHash !== b.weightsHash) out.push(`weights ${shortHash(b.weightsHash)} vs ${shortHash(a.weightsHash)}`);
    if (a.featureDim !== b.featureDim) out.push(`feature dim ${b.featureDim} vs ${a.featureDim}`);
    if (a.inputWidth !== b.inputWidth || a.inputHeight !== b.inputHeight || a.inputChannels !== b.inputChannels)
      out.push(`input ${b.inputWidth}×${b.inputHeight}×${b.inputChannels} vs ${a.inputWidth}×${a.inputHeight}×${a.inputChannels}`);
  }
  if (a.nReal !== b.nReal) out.push(`N real ${b.nReal} vs ${a.nReal}`);
  if (a.nFake !== b.nFake) out.push(`N fake ${b.nFake} vs ${a.nFake}`);
  if (a.referenceSplit !== b.referenceSplit) out.push(`split ${b.referenceSplit} vs ${a.referenceSplit}`);
  if (a.reference !== b.reference) out.push(`reference ${b.reference} vs ${a.reference}`);
  else if (a.referenceHash !== b.referenceHash) out.push(`reference data changed (${shortHash(b.referenceHash)} vs ${shortHash(a.referenceHash)})`);
  if (a.duringTraining !== b.duringTraining) out.push(b.duringTraining ? 'small-N evaluation during training' : 'final evaluation, not during training');
  const optionKeys = new Set([...Object.keys(a.options), ...Object.keys(b.options)] as (keyof EvaluationProtocol['options'])[]);
  for (const k of optionKeys) if (a.options[k] !== b.options[k]) out.push(`${k} ${b.options[k]} vs ${a.options[k]}`);
  // a metric only one side measured is no difference of the ruler; one measured two ways is
  for (const k of Object.keys(a.convention)) if (k in b.convention && a.convention[k] !== b.convention[k]) out.push(`${k} convention ${b.convention[k]} vs ${a.convention[k]}`);
  // the core's key covers something this list does not name
  if (!out.length) out.push('protocol hash differs');
  return out;
}

/** One line naming the protocol: extractor and weights, N real/N fake, split, reference. */
export function describeProtocol(p: EvaluationProtocol): string {
  const split = p.referenceSplit === 'folder' ? `folder ${p.reference}` : `${p.referenceSplit} split of ${p.reference}`;
  return `${p.extractorId} (${p.extractorKind}, ${shortHash(p.weightsHash)}) · N ${p.nReal} real / ${p.nFake} fake · ${split}${p.duringTraining ? ' · small N, during training' : ''}`;
}

export { shortHash };

/** A column of the results table: its header, how to read it from scores, and which way is better. */
export interface ScoreColumn {
  id: string;
  label: string;
  /** the metric that produces it */
  metric: EvalMetric;
  better: 'lower' | 'higher' | 'closer-to-0';
  value: (s: EvaluationScores) => number | undefined;
  /** spread shown as ± (KID std over subsets, IS std over splits) */
  spread?: (s: EvaluationScores) => number | undefined;
  /** what the spread is over, for the tooltip */
  spreadOf?: (s: EvaluationScores) => string;
  /** shown instead of a spread that does not exist (KID over one subset) */
  spreadNote?: (s: EvaluationScores) => string | undefined;
}

export const SCORE_COLUMNS: readonly ScoreColumn[] = [
  { id: 'fid', label: 'FID', metric: 'fid', better: 'lower', value: (s) => s.fid },
  {
    id: 'kid',
    label: 'KID',
    metric: 'kid',
    better: 'lower',
    value: (s) => s.kid?.mean,
    // one subset (the subset size covered every sample): there is no spread, the stored 0 is not one
    spread: (s) => (s.kid?.subsets === 1 ? undefined : s.kid?.std),
    spreadOf: (s) => (s.kid?.subsets === 1 ? `one subset of ${s.kid.subsetSize}: the subset size covered every sample, so there is no spread over subsets` : `std over ${s.kid?.subsets ?? '?'} subsets of ${s.kid?.subsetSize ?? '?'}`),
    spreadNote: (s) => (s.kid?.subsets === 1 ? 'n/a (one subset)' : undefined),
  },
  { id: 'is', label: 'IS', metric: 'is', better: 'higher', value: (s) => s.is?.mean, spread: (s) => s.is?.std, spreadOf: (s) => `std over ${s.is?.splits ?? '?'} splits` },
  { id: 'precision', label: 'Precision', metric: 'prc', better: 'higher', value: (s) => s.precision },
  { id: 'recall', label: 'Recall', metric: 'prc', better: 'higher', value: (s) => s.recall },
  { id: 'f1', label: 'F1', metric: 'prc', better: 'higher', value: (s) => s.f1 },
  { id: 'density', label: 'Density', metric: 'prdc', better: 'higher', value: (s) => s.density },
  { id: 'coverage', label: 'Coverage', metric: 'prdc', better: 'higher', value: (s) => s.coverage },
  { id: 'prd-f8', label: 'PRD F₈', metric: 'prd', better: 'higher', value: (s) => s.prd?.f8 },
  { id: 'prd-f1_8', label: 'PRD F₁/₈', metric: 'prd', better: 'higher', value: (s) => s.prd?.f1_8 },
  { id: 'swd', label: 'SWD ×10³', metric: 'swd', better: 'lower', value: (s) => s.swd?.average },
  { id: 'fm', label: 'Feat. match', metric: 'fm', better: 'lower', value: (s) => s.fm },
  { id: 'modes', label: 'Modes', metric: 'modes', better: 'higher', value: (s) => s.modes?.modesHit },
  { id: 'kl', label: 'KL modes', metric: 'modes', better: 'lower', value: (s) => s.modes?.kl },
  { id: 'mem-pixel', label: 'Memorised (px)', metric: 'nn', better: 'lower', value: (s) => s.memorisation?.pixel },
  { id: 'mem-feature', label: 'Memorised (feat.)', metric: 'nn', better: 'lower', value: (s) => s.memorisation?.feature ?? undefined },
];

/** The columns with a value in at least one of the rows, in table order. */
export function columnsFor(rows: readonly EvaluationSummary[]): ScoreColumn[] {
  return SCORE_COLUMNS.filter((c) => rows.some((r) => c.value(r.scores) !== undefined));
}

/** "12.3 ± 0.45", or the value alone, or "–". */
export function formatScore(value: number | undefined, spread?: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return spread === undefined ? formatNumber(value) : `${formatNumber(value)} ± ${formatNumber(spread, 2)}`;
}

/** A cell of the results table: the value with its spread, or with the note that it has none. */
export function scoreText(column: ScoreColumn, scores: EvaluationScores): string {
  const value = column.value(scores);
  const note = column.spreadNote?.(scores);
  if (note !== undefined && value !== undefined && Number.isFinite(value)) return `${formatNumber(value)} ± ${note}`;
  return formatScore(value, column.spread?.(scores));
}

/** The metrics an extractor can compute: IS and mode counting need class probabilities. */
export function supportedMetrics(extractor: Pick<Extractor, 'probsLayer' | 'kind'> | null, all: readonly EvalMetric[]): EvalMetric[] {
  const hasProbs = extractor != null && extractor.probsLayer != null;
  return all.filter((m) => hasProbs || (m !== 'is' && m !== 'modes'));
}

/**
 * Why N is too small for the chosen metrics with this extractor's feature dimension, or null.
 * FID needs N > d for a full-rank covariance (METRICS.md); the core refuses it too, this only
 * says so before the job starts.
 */
export function sampleSizeProblem(n: number, featureDim: number, metrics: readonly EvalMetric[]): string | null {
  if (!Number.isInteger(n) || n < 2) return 'N must be a whole number of at least 2';
  if (metrics.includes('fid') && featureDim > 0 && n <= featureDim)
    return `FID needs N > d for a full-rank covariance: N ${n} ≤ d ${featureDim} (choose N ≥ ${featureDim + 1} or leave FID out)`;
  return null;
}

/** One line of the metric-over-steps chart: one protocol's evaluations of one run, by step. */
export interface StepSeries {
  protocolKey: string;
  label: string;
  duringTraining: boolean;
  steps: number[];
  values: number[];
}

/**
 * The series of one score over checkpoint steps: one series per protocol (never mixed), the
 * during-training ones labelled as such. Several evaluations at one step (e.g. repeated with
 * other seeds) are kept as separate points, in step order.
 */
export function stepSeries(rows: readonly EvaluationSummary[], column: ScoreColumn): StepSeries[] {
  const series = new Map<string, StepSeries & { points: [number, number][] }>();
  for (const r of rows) {
    const v = column.value(r.scores);
    if (r.step == null || v === undefined || !Number.isFinite(v)) continue;
    let s = series.get(r.protocolKey);
    if (!s) {
      const p = r.protocol;
      const label = `${p.duringTraining ? 'small N, during training' : 'checkpoints'} · ${p.extractorId} · N ${p.nFake}`;
      series.set(r.protocolKey, (s = { protocolKey: r.protocolKey, label, duringTraining: p.duringTraining, steps: [], values: [], points: [] }));
    }
    s.points.push([r.step, v]);
  }
  return [...series.values()].map(({ points, ...s }) => {
    points.sort((a, b) => a[0] - b[0]);
    return { ...s, steps: points.map((p) => p[0]), values: points.map((p) => p[1]) };
  });
}
