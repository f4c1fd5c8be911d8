// End to end, evaluation (issue 6): a home seeded by `gan-studio train --json` with a short real
// DCGAN run on MNIST that keeps two checkpoints; the studio served by the real CLI; headless
// Chromium opens the run, follows its Evaluate button, trains a LeNet classifier in the page
// (progress, held-out accuracy), evaluates both checkpoints (progress with phase), and finds the
// results table with spreads and protocol, the metric-over-steps chart, the nearest-neighbour
// viewer and the class-coverage histogram; a second protocol lands in its own "not comparable"
// table; a cancelled evaluation stores nothing.
// Needs a built renderer (npm run build:renderer, or GAN_STUDIO_RENDERER_DIST) and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { E2eStudio, ROOT, assertE2ePrerequisites, loadedWidth, openRunPage, openStudio, shot, testid, trainWithCli, trainedRun, until } from './helpers.ts';

const STEPS = 100;
const CHECKPOINT_EVERY = 50;
/** > d = 64 (the LeNet feature layer): FID needs a full-rank covariance */
const N = 128;

const studio = new E2eStudio();
let page: Page;
let runId = '';

/** Trains a small DCGAN into `home` with a checkpoint every 50 steps and returns its id. */
async function seedRun(home: string): Promise<string> {
  const config = path.join(home, 'small.json');
  writeFileSync(
    config,
    JSON.stringify({
      architecture: { gChannels: 16, dChannels: 8, latentDim: 16 },
      schedule: { scalarEvery: 10, checkpointEvery: CHECKPOINT_EVERY, sampleEverySeconds: 5 },
    }),
  );
  return trainedRun(trainWithCli(home, ['--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', String(STEPS), '--batch', '16', '--backend', 'wasm', '--seed', '3', '--name', 'eval-e2e', '--config', config]));
}

const rows = () => page.locator(testid('eval-row'));
const rowSteps = async () => (await rows().evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-step'))))).sort((a, b) => a - b);

describe('evaluation in the studio', { timeout: 180_000 }, () => {
  before(async () => {
    assertE2ePrerequisites();
    const home = studio.temp.make('gan-e2e-eval-home-');
    runId = await seedRun(home);
    page = await studio.start(home, 'gan-e2e-eval-chromium-');
  });

  after(() => studio.close());

  it('opens the Evaluate page from the run with the run and its checkpoints', async () => {
    await openStudio(page, studio.url);
    await openRunPage(page, runId);
    await page.click(testid('run-evaluate'));
    await page.locator(testid('evaluate-page')).waitFor();
    assert.equal(new URL(page.url()).hash, `#/evaluate?run=${encodeURIComponent(runId)}`);
    assert.equal(await page.getAttribute(testid('nav-evaluate'), 'aria-current'), 'page');

    const run = page.locator(`${testid('eval-run')}[data-run-id="${runId}"]`);
    assert.equal(await run.locator(testid('eval-run-toggle')).isChecked(), true);
    const checkpoints = run.locator(testid('eval-checkpoint'));
    await checkpoints.first().waitFor();
    const offered = await checkpoints.evaluateAll((els) => els.map((e) => e.getAttribute('data-checkpoint')));
    assert.deepEqual(offered, ['latest', String(CHECKPOINT_EVERY), String(STEPS)]);
    assert.equal(await run.locator(`${testid('eval-checkpoint')}[data-checkpoint="latest"]`).isChecked(), true);
    // no classifier yet: the pixel extractor is chosen, and IS / mode counting are not offered
    assert.equal(await page.getAttribute(testid('eval-extractor-facts'), 'data-kind'), 'pixel');
    assert.equal(await page.isDisabled(`${testid('eval-metric')}[data-metric="is"]`), true);
    await shot(page, 'evaluate-form');
    // native pixels of 28×28×1 digits: d = 784, so FID needs N ≥ 785
    await page.fill(testid('eval-n'), '700');
    assert.match((await page.textContent(testid('eval-form-problem'))) ?? '', /N 700 ≤ d 784/);
    assert.equal(await page.isDisabled(testid('eval-start')), true);
  });

  it('refuses a user model folder that is not a TF.js model, naming the problem', async () => {
    const form = page.locator(testid('eval-user-model'));
    await form.locator('summary').click();
    await page.fill(testid('eval-user-path'), path.join(ROOT, 'test'));
    await page.click(testid('eval-user-add'));
    const error = page.locator(testid('eval-user-error'));
    await error.waitFor({ timeout: 20_000 });
    assert.match((await error.textContent()) ?? '', /model\.json/);
    assert.equal(await page.getAttribute(testid('eval-extractor-facts'), 'data-kind'), 'pixel');
    await form.locator('summary').click();
  });

  it('trains a classifier on MNIST with progress and reports its held-out accuracy', async () => {
    assert.equal(await page.inputValue(testid('eval-train-dataset')), 'builtin:mnist');
    await page.fill(testid('eval-train-epochs'), '1');
    await page.fill(testid('eval-train-max'), '2000');
    await page.click(testid('eval-train-start'));
    await page.locator(testid('eval-train-progress')).waitFor({ timeout: 30_000 });
    const outcome = page.locator(testid('eval-train-outcome'));
    await outcome.waitFor({ timeout: 90_000 });
    assert.equal(await outcome.getAttribute('data-kind'), 'done', (await outcome.textContent()) ?? '');
    // 1 epoch on 2 000 digits: far above chance (10 %) though short of a full training
    const facts = page.locator(testid('eval-extractor-facts'));
    assert.equal(await facts.getAttribute('data-kind'), 'classifier');
    const accuracy = Number(await page.getAttribute(testid('eval-extractor-accuracy'), 'data-accuracy'));
    assert.ok(accuracy > 0.5 && accuracy <= 1, `held-out accuracy ${accuracy}`);
    assert.match((await page.textContent(testid('eval-train-accuracy'))) ?? '', /\d+\.\d %/);
    assert.equal(await page.isEnabled(`${testid('eval-metric')}[data-metric="is"]`), true);
  });

  it('refuses an N that is too small for FID before starting', async () => {
    await page.fill(testid('eval-n'), '64');
    assert.match((await page.textContent(testid('eval-form-problem'))) ?? '', /FID needs N > d.*N 64 ≤ d 64/);
    assert.equal(await page.isDisabled(testid('eval-start')), true);
  });

  it('evaluates both checkpoints with progress and shows the results table with spreads and protocol', async () => {
    await page.fill(testid('eval-n'), String(N));
    // the pixel SWD and PRD's 10 k-means runs take ~10 s per checkpoint here and are covered by the core's tests
    for (const m of ['swd', 'prd']) await page.locator(`${testid('eval-metric')}[data-metric="${m}"]`).setChecked(false);
    await page.click(testid('eval-all-checkpoints'));
    assert.match((await page.textContent(testid('eval-start'))) ?? '', /2 checkpoints/);
    await page.click(testid('eval-start'));
    const progress = page.locator(testid('eval-progress'));
    await progress.waitFor({ timeout: 20_000 });
    assert.ok(((await progress.getAttribute('data-phase')) ?? '').length > 0);
    await shot(page, 'evaluate-progress');
    const outcome = page.locator(testid('eval-outcome'));
    await outcome.waitFor({ timeout: 120_000 });
    assert.equal(await outcome.getAttribute('data-kind'), 'done', (await outcome.textContent()) ?? '');

    assert.equal(await page.locator(testid('eval-group')).count(), 1);
    assert.deepEqual(await rowSteps(), [CHECKPOINT_EVERY, STEPS]);
    for (const score of ['fid', 'kid', 'is', 'precision', 'recall', 'density', 'coverage']) {
      const values = await page.locator(`${testid('eval-score')}[data-score="${score}"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      assert.equal(values.length, 2, score);
      assert.ok(
        values.every((v) => Number.isFinite(v)),
        `${score}: ${values}`,
      );
    }
    const fids = await page.locator(`${testid('eval-score')}[data-score="fid"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    assert.ok(
      fids.every((v) => v > 0),
      `FID of a 100-step GAN is positive: ${fids}`,
    );
    // KID and IS carry their spread
    assert.match((await page.locator(`${testid('eval-score')}[data-score="kid"]`).first().textContent()) ?? '', /±/);
    assert.match((await page.locator(`${testid('eval-score')}[data-score="is"]`).first().textContent()) ?? '', /±/);
    const isValue = Number(await page.locator(`${testid('eval-score')}[data-score="is"]`).first().getAttribute('data-value'));
    assert.ok(isValue >= 1 && isValue <= 10, `1 ≤ IS ≤ classes: ${isValue}`);
    // each row names its protocol: extractor, weights hash prefix, N real/N fake, split, seed
    const protocol = (await page.locator(testid('eval-row-protocol')).first().textContent()) ?? '';
    assert.match(protocol, /classifier/);
    assert.match(protocol, new RegExp(`/${N} · (holdout|train) · seed 0`));
  });

  it('charts the score over the checkpoints', async () => {
    const chart = page.locator(testid('eval-steps-chart'));
    await chart.waitFor();
    await until('two points on the steps chart', async () => Number(await chart.getAttribute('data-points')), (n) => n === 2);
    const steps = await page.locator(testid('eval-steps-chart-point')).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-step'))));
    assert.deepEqual(steps, [CHECKPOINT_EVERY, STEPS]);
    assert.equal(await page.getAttribute(testid('eval-steps'), 'data-run-id'), runId);
  });

  it('shows nearest training images with distances and the memorisation share', async () => {
    const nn = page.locator(testid('eval-nn'));
    await nn.waitFor();
    const nnRows = nn.locator(testid('eval-nn-row'));
    assert.equal(await nnRows.count(), 8);
    const distances = (await nnRows.first().getAttribute('data-distances'))!.split(' ').map(Number);
    assert.equal(distances.length, 5);
    assert.ok(
      distances.every((d, i) => d > 0 && (i === 0 || d >= distances[i - 1])),
      `nearest first: ${distances}`,
    );
    const share = Number(await nn.locator(testid('eval-nn-share')).getAttribute('data-share'));
    assert.ok(share >= 0 && share <= 1);
    // both spaces are offered; feature space comes from the classifier
    await nn.locator(`${testid('eval-nn-space')}[data-space="feature"]`).click();
    await until('the feature-space strip', async () => (await nn.getAttribute('data-space')) ?? '', (s) => s === 'feature');
    assert.equal(await nn.locator(testid('eval-nn-row')).count(), 8);
  });

  it('shows the class-coverage histogram next to the data, with KL and modes covered', async () => {
    const bars = page.locator(`${testid('eval-coverage-bars')} ${testid('eval-coverage-bars-class')}`);
    assert.equal(await bars.count(), 10);
    const shares = await bars.evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-first')), Number(e.getAttribute('data-second'))]));
    const sum = (i: 0 | 1) => shares.reduce((s, x) => s + x[i], 0);
    assert.ok(Math.abs(sum(0) - 1) < 1e-6 && Math.abs(sum(1) - 1) < 1e-6, JSON.stringify(shares));
    const hit = Number(await page.getAttribute(testid('eval-modes-hit'), 'data-modes-hit'));
    assert.equal(hit, shares.filter((x) => x[0] > 0).length);
    const kl = Number(await page.getAttribute(testid('eval-modes-kl'), 'data-kl'));
    assert.ok(Number.isFinite(kl) && kl >= 0, `KL ${kl}`);
    await until('the scored samples grid to load', () => loadedWidth(page, testid('eval-fake-preview')), (w) => w > 0);
    await shot(page, 'evaluate-results', { tall: true });
  });

  it('puts a result measured under another protocol in its own table, marked not comparable', async () => {
    await page.selectOption(testid('eval-extractor-select'), 'pixel-16');
    // pixel-16 has d = 256 > N: leave FID out, keep a cheap metric
    for (const m of ['fid', 'kid', 'prc', 'prdc', 'prd', 'swd', 'fm', 'nn']) {
      const box = page.locator(`${testid('eval-metric')}[data-metric="${m}"]`);
      if ((await box.isChecked()) !== (m === 'kid')) await box.setChecked(m === 'kid');
    }
    const run = page.locator(`${testid('eval-run')}[data-run-id="${runId}"]`);
    await run.locator(`${testid('eval-checkpoint')}[data-checkpoint="${CHECKPOINT_EVERY}"]`).setChecked(false);
    await page.fill(testid('eval-n'), '64');
    await page.click(testid('eval-start'));
    const outcome = page.locator(testid('eval-outcome'));
    await until('the second evaluation to end', () => outcome.count(), (n) => n === 1, 60_000);
    assert.equal(await outcome.getAttribute('data-kind'), 'done', (await outcome.textContent()) ?? '');
    assert.equal(await rows().count(), 3);
    const groups = page.locator(testid('eval-group'));
    await until('two protocol groups', () => groups.count(), (n) => n === 2);
    const note = (await page.locator(testid('eval-not-comparable')).textContent()) ?? '';
    assert.match(note, /Not comparable/);
    assert.match(note, /extractor/);
    // the new group (listed first, newest) holds the pixel row only; the classifier rows stay together
    assert.deepEqual(await groups.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rows')))), [1, 2]);
  });

  it('cancels an evaluation and stores nothing', async () => {
    const before = await rows().count();
    // back to the classifier with every metric, and a large N so there is time to cancel
    const classifierOption = await page.locator(`${testid('eval-extractor-select')} option`).evaluateAll((els) => els.map((e) => e.getAttribute('value')).find((v) => v?.startsWith('classifier')));
    assert.ok(classifierOption);
    await page.selectOption(testid('eval-extractor-select'), classifierOption);
    for (const m of ['fid', 'kid', 'is', 'nn']) await page.locator(`${testid('eval-metric')}[data-metric="${m}"]`).setChecked(true);
    await page.fill(testid('eval-n'), '5000');
    await page.click(testid('eval-start'));
    await page.locator(testid('eval-progress')).waitFor({ timeout: 20_000 });
    await page.click(testid('eval-cancel'));
    const outcome = page.locator(`${testid('eval-outcome')}[data-kind="cancelled"]`);
    await outcome.waitFor({ timeout: 30_000 });
    assert.match((await outcome.textContent()) ?? '', /nothing was stored/);
    await shot(page, 'evaluate-cancelled');
    // and after a reload the stored list is unchanged
    await page.reload();
    await page.locator(testid('evaluate-page')).waitFor();
    await until('the stored results', () => rows().count(), (n) => n === before);
    assert.deepEqual(studio.cspViolations, []);
    assert.deepEqual(studio.pageErrors, []);
  });
});
