// The Evaluate page's pure logic (renderer/src/lib/evaluate.ts): scores with different protocols
// never share a table, the reason is named, the during-training series stay apart, and N is
// checked against the feature dimension before a job starts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVAL_METRICS, EvaluationOptionsSchema, EvaluationSummarySchema, type EvaluationProtocol, type EvaluationSummary } from '../../electron/common/api-evaluation.ts';
import { columnsFor, describeProtocol, formatScore, groupByProtocol, protocolDifferences, sampleSizeProblem, SCORE_COLUMNS, stepSeries, supportedMetrics } from '../../renderer/src/lib/evaluate.ts';

const PROTOCOL: EvaluationProtocol = {
  extractorId: 'classifier-abc',
  extractorKind: 'classifier',
  weightsHash: '0123456789abcdef',
  featureDim: 84,
  inputWidth: 28,
  inputHeight: 28,
  inputChannels: 1,
  nReal: 500,
  nFake: 500,
  referenceSplit: 'holdout',
  reference: 'builtin:mnist',
  referenceHash: 'feedface',
  seed: 0,
  convention: { fid: 'pytorch-fid', kid: 'torch-fidelity' },
  options: EvaluationOptionsSchema.parse({}),
  duringTraining: false,
};

let nextId = 0;
/** A summary that passes the contract's own schema, so the fixtures cannot drift from it. */
function evaluation(opts: { key: string; step?: number; runId?: string; protocol?: Partial<EvaluationProtocol>; fid?: number; kid?: number }): EvaluationSummary {
  return EvaluationSummarySchema.parse({
    id: `ev-${++nextId}`,
    runId: opts.runId ?? 'run-1',
    step: opts.step ?? 100,
    datasetId: 'builtin:mnist',
    sourceKind: 'run',
    label: 'run-1 @ 100',
    metrics: ['fid', 'kid'],
    scores: { ...(opts.fid !== undefined ? { fid: opts.fid } : {}), ...(opts.kid !== undefined ? { kid: { mean: opts.kid, std: 0.001, subsets: 10, subsetSize: 100 } } : {}) },
    protocol: { ...PROTOCOL, ...opts.protocol },
    protocolKey: opts.key,
    warnings: [],
    durationMs: 1000,
    createdAt: 1_700_000_000_000 + nextId,
  });
}

test('rows are grouped by protocol key, in listing order, and each later group names what differs', () => {
  const rows = [
    evaluation({ key: 'A', step: 300, fid: 10 }),
    evaluation({ key: 'B', step: 300, fid: 4, protocol: { nFake: 1000, nReal: 1000 } }),
    evaluation({ key: 'A', step: 200, fid: 12 }),
    evaluation({ key: 'C', step: 300, fid: 40, protocol: { extractorId: 'pixel-16', extractorKind: 'pixel', weightsHash: 'pixel:16' } }),
  ];
  const groups = groupByProtocol(rows);
  assert.deepEqual(
    groups.map((g) => [g.protocolKey, g.rows.map((r) => r.step)]),
    [
      ['A', [300, 200]],
      ['B', [300]],
      ['C', [300]],
    ],
  );
  assert.deepEqual(groups[0].differences, []);
  assert.deepEqual(groups[1].differences, ['N real 1000 vs 500', 'N fake 1000 vs 500']);
  assert.deepEqual(groups[2].differences, ['extractor pixel-16 vs classifier-abc']);
  // no row appears in two groups, none is lost
  assert.equal(
    groups.reduce((n, g) => n + g.rows.length, 0),
    rows.length,
  );
});

test('protocolDifferences names weights, split, during-training and options; the seed alone is no difference', () => {
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, weightsHash: 'ffffffff00000000' }), ['weights ffffffff vs 01234567']);
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, referenceSplit: 'train' }), ['split train vs holdout']);
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, duringTraining: true }), ['small-N evaluation during training']);
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, options: { ...PROTOCOL.options, kidSubsets: 10 } }), ['kidSubsets 10 vs 100']);
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, referenceHash: 'beefbeef' }), ['reference data changed (beefbeef vs feedface)']);
  // another extractor: named once, not again as its dimension and input size
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, extractorId: 'pixel-16', weightsHash: 'pixel:16x16', featureDim: 256, inputWidth: 16, inputHeight: 16 }), ['extractor pixel-16 vs classifier-abc']);
  // a metric measured by only one side is no difference; one measured under another convention is
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, convention: { kid: 'torch-fidelity' } }), ['protocol hash differs']);
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, convention: { fid: 'clean-fid', kid: 'torch-fidelity' } }), ['fid convention clean-fid vs pytorch-fid']);
  // keys differ but nothing this list knows does: still said to differ, never silently merged
  assert.deepEqual(protocolDifferences(PROTOCOL, { ...PROTOCOL, seed: 7 }), ['protocol hash differs']);
});

test('describeProtocol names extractor, hash prefix, N real/N fake and the split', () => {
  const text = describeProtocol(PROTOCOL);
  assert.match(text, /classifier-abc \(classifier, 01234567\)/);
  assert.match(text, /N 500 real \/ 500 fake/);
  assert.match(text, /holdout split of builtin:mnist/);
  assert.doesNotMatch(text, /during training/);
  assert.match(describeProtocol({ ...PROTOCOL, duringTraining: true }), /small N, during training/);
});

test('score columns: only those with values; KID and IS carry their spread', () => {
  const rows = [evaluation({ key: 'A', fid: 3.5, kid: 0.012 })];
  assert.deepEqual(
    columnsFor(rows).map((c) => c.id),
    ['fid', 'kid'],
  );
  const kid = SCORE_COLUMNS.find((c) => c.id === 'kid')!;
  assert.equal(formatScore(kid.value(rows[0].scores), kid.spread?.(rows[0].scores)), '0.012 ± 0.001');
  assert.equal(kid.spreadOf?.(rows[0].scores), 'std over 10 subsets of 100');
  assert.equal(formatScore(undefined), '–');
  assert.equal(formatScore(Number.NaN), '–');
  assert.equal(formatScore(27.123456), '27.12');
});

test('stepSeries: one series per protocol, sorted by step, during-training labelled', () => {
  const fid = SCORE_COLUMNS.find((c) => c.id === 'fid')!;
  const rows = [
    evaluation({ key: 'A', step: 300, fid: 10 }),
    evaluation({ key: 'T', step: 50, fid: 90, protocol: { duringTraining: true, nFake: 64, nReal: 64 } }),
    evaluation({ key: 'A', step: 100, fid: 30 }),
    evaluation({ key: 'T', step: 150, fid: 70, protocol: { duringTraining: true, nFake: 64, nReal: 64 } }),
    evaluation({ key: 'A', step: 200, kid: 0.1 }), // no FID: not a point
  ];
  const series = stepSeries(rows, fid);
  assert.equal(series.length, 2);
  const [a, t] = series;
  assert.deepEqual([a.steps, a.values, a.duringTraining], [[100, 300], [30, 10], false]);
  assert.deepEqual([t.steps, t.values, t.duringTraining], [[50, 150], [90, 70], true]);
  assert.match(t.label, /small N, during training/);
  assert.match(t.label, /N 64/);
  assert.doesNotMatch(a.label, /during training/);
});

test('supportedMetrics: IS and mode counting need class probabilities', () => {
  assert.deepEqual(supportedMetrics({ kind: 'pixel', probsLayer: null }, EVAL_METRICS), ['fid', 'kid', 'prc', 'prdc', 'prd', 'swd', 'fm', 'nn']);
  assert.deepEqual(supportedMetrics({ kind: 'classifier', probsLayer: 'softmax' }, EVAL_METRICS), [...EVAL_METRICS]);
  assert.deepEqual(supportedMetrics(null, ['fid', 'is']), ['fid']);
});

test('sampleSizeProblem: FID needs N > d, said with both numbers; other metrics do not', () => {
  assert.equal(sampleSizeProblem(84, 84, ['fid']), 'FID needs N > d for a full-rank covariance: N 84 ≤ d 84 (choose N ≥ 85 or leave FID out)');
  assert.equal(sampleSizeProblem(85, 84, ['fid']), null);
  assert.equal(sampleSizeProblem(50, 84, ['kid', 'prc']), null);
  assert.equal(sampleSizeProblem(1, 84, ['kid']), 'N must be a whole number of at least 2');
  assert.equal(sampleSizeProblem(2.5, 84, ['kid']), 'N must be a whole number of at least 2');
  // pixel extractors at native size report d = 0: the core checks N against H·W·C itself
  assert.equal(sampleSizeProblem(10, 0, ['fid']), null);
});
