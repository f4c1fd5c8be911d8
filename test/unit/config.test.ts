import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunConfig, RunConfigSchema, FAMILY_INFO } from '../../electron/common/config.ts';
import { ApiError } from '../../electron/common/errors.ts';

const base = { dataset: 'builtin:mnist', family: 'dcgan' };

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    resolveRunConfig(input);
  } catch (err) {
    assert.ok(err instanceof ApiError, 'rejections are ApiErrors');
    assert.equal(err.code, 'invalid_input');
    return err.details!.issues as { path: string; message: string }[];
  }
  assert.fail(`expected ${JSON.stringify(input)} to be rejected`);
}

test('a minimal config takes the DCGAN preset (workload W1) and a recorded seed', () => {
  const cfg = resolveRunConfig(base, () => 1234);
  assert.equal(cfg.version, 1);
  assert.equal(cfg.seed, 1234);
  assert.equal(cfg.schedule.batchSize, 64);
  assert.deepEqual(cfg.optimizer.g, { kind: 'adam', lr: 2e-4, beta1: 0.5, beta2: 0.999 });
  assert.equal(cfg.architecture.latentDim, 100);
  assert.equal(cfg.objective, 'non-saturating');
  assert.equal(cfg.backend, 'auto');
  // the resolved config is itself valid and JSON round-trips
  assert.deepEqual(RunConfigSchema.parse(JSON.parse(JSON.stringify(cfg))), cfg);
});

test('fields given override the preset deeply, the rest is kept', () => {
  const cfg = resolveRunConfig({ ...base, seed: 7, schedule: { steps: 10 }, optimizer: { d: { lr: 1e-4 } } });
  assert.equal(cfg.schedule.steps, 10);
  assert.equal(cfg.schedule.batchSize, FAMILY_INFO.dcgan.defaults.schedule.batchSize);
  assert.equal(cfg.optimizer.d.lr, 1e-4);
  assert.equal(cfg.optimizer.d.beta1, 0.5);
  assert.equal(cfg.optimizer.g.lr, 2e-4);
});

test('an unknown family is rejected naming the field and the known families', () => {
  const issues = issuesOf({ ...base, family: 'dcgn' });
  assert.equal(issues[0].path, 'family');
  assert.match(issues[0].message, /unknown family "dcgn".*dcgan/);
});

test('batch size ≤ 0, wrong types, a missing dataset and unknown keys each name their field', () => {
  assert.equal(issuesOf({ ...base, schedule: { batchSize: 0 } })[0].path, 'schedule.batchSize');
  assert.equal(issuesOf({ ...base, schedule: { batchSize: -3 } })[0].path, 'schedule.batchSize');
  assert.equal(issuesOf({ ...base, schedule: { batchSize: 2.5 } })[0].path, 'schedule.batchSize');
  assert.equal(issuesOf({ ...base, schedule: { steps: '100' } })[0].path, 'schedule.steps');
  assert.equal(issuesOf({ ...base, optimizer: { g: { lr: -1 } } })[0].path, 'optimizer.g.lr');
  assert.equal(issuesOf({ ...base, backend: 'cuda' })[0].path, 'backend');
  assert.equal(issuesOf({ family: 'dcgan' })[0].path, 'dataset');
  assert.equal(issuesOf({ ...base, batch: 3 })[0].path, '(root)');
  assert.match(issuesOf({ ...base, batch: 3 })[0].message, /batch/);
  assert.equal(issuesOf('dcgan')[0].path, '(root)');
  assert.equal(issuesOf(null)[0].path, '(root)');
});

test('the error message lists every bad field', () => {
  try {
    resolveRunConfig({ ...base, schedule: { batchSize: 0, steps: 0 } });
    assert.fail('expected a rejection');
  } catch (err) {
    assert.match((err as Error).message, /schedule\.batchSize/);
    assert.match((err as Error).message, /schedule\.steps/);
  }
});
