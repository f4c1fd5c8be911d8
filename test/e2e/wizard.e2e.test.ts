// End to end through the new-run wizard against the real stack (the CLI in browser mode, headless
// Chromium): ring-of-8 gets a recommendation, WGAN-GP with a changed trick is dry-run measured,
// saved as a preset that survives a reload, exported as run.json and started, and its GAN Lab
// view appears; pix2pix on labelled MNIST is refused with the reason; evaluation during training is
// set up (the checkpoint rule named, then satisfied) and reaches the stored config. Screenshots of every step go
// to test-artifacts/e2e/wizard-*.png. Needs `npm run build:renderer` first and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { resolveRunConfig } from '../../electron/common/config.ts';
import { CHROMIUM, ROOT, StudioServer, TempDirs, launchBrowser, loadedWidth, shot, testid, until } from './helpers.ts';
import { pageApiCall } from './page-api.ts';

const RING = 'builtin:ring8';
const MNIST = 'builtin:mnist';
const PRESET = 'ring wgan-gp noisy';

const server = new StudioServer();
const temp = new TempDirs();
let context: BrowserContext | null = null;
let page: Page;
let launchUrl = '';
let cspViolations: string[] = [];
let pageErrors: string[] = [];

const sentConfig = async (): Promise<Record<string, unknown>> => (JSON.parse((await page.textContent(testid('wizard-review-config'))) ?? '{}') as { config: Record<string, unknown> }).config;

async function openWizard(): Promise<void> {
  await page.click(testid('nav-new'));
  await page.locator(testid('wizard-step-dataset')).waitFor();
}

describe('the new-run wizard', { timeout: 180_000 }, () => {
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/renderer/index.html')), 'run `npm run build:renderer` first');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    launchUrl = await server.start(temp.make('gan-wizard-home-'));
    ({ context, page, cspViolations, pageErrors } = await launchBrowser(temp.make('gan-wizard-chromium-'), { acceptDownloads: true }));
    await page.goto(launchUrl);
    await page.locator(testid('connection') + '[data-state="open"]').waitFor();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await server.stop();
    temp.removeAll();
  });

  it('shows the dataset kind and recommends a family for ring-of-8', async () => {
    await openWizard();
    await page.check(testid(`wizard-dataset-${RING}`));
    const card = page.locator('label', { has: page.locator(testid(`wizard-dataset-${RING}`)) });
    assert.equal(await card.locator(testid('dataset-kind')).textContent(), '2-D points');
    await until('the preview image', () => loadedWidth(page, testid('wizard-dataset-preview')), (w) => w > 0);
    await shot(page, 'wizard-1-dataset', { tall: true });

    await page.click(testid('wizard-next'));
    const rec = page.locator(testid('family-recommendation'));
    await rec.waitFor();
    assert.equal(await rec.getAttribute('data-families'), 'dcgan wgan-gp');
    // the recommended family is preselected; those that cannot train on points say why
    assert.equal(await page.isChecked(testid('wizard-family-dcgan')), true);
    assert.equal(await page.getAttribute(testid('family-card-pix2pix'), 'data-usable'), 'false');
    assert.equal(await page.getAttribute(testid('family-card-sagan'), 'data-usable'), 'false');
    assert.equal(await page.locator(testid('family-diagram')).count(), await page.locator('[data-testid^="family-card-"]').count());
    await page.check(testid('wizard-family-wgan-gp'));
    await shot(page, 'wizard-2-family', { tall: true });
  });

  it('shows the architecture and objective that fit WGAN-GP on points', async () => {
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-model')).waitFor();
    assert.equal(await page.isChecked(testid('objective-wasserstein')), true);
    // points: MLP width, no conv widths; the gradient penalty preset is shown
    assert.equal(await page.locator(testid('field-architecture.hiddenUnits')).count(), 1);
    assert.equal(await page.locator(testid('field-architecture.gChannels')).count(), 0);
    assert.equal(await page.inputValue(testid('field-regularizers.gradientPenalty')), '10');
    await shot(page, 'wizard-3-model', { tall: true });
  });

  it('changes a trick and the schedule, and sends only the changes', async () => {
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-training')).waitFor();
    assert.equal(await page.inputValue(testid('field-d-steps')), '5');
    await page.fill(testid('trick-instanceNoise'), '0.1');
    await page.fill(testid('field-steps'), '400');
    await page.check(testid('backend-wasm'));
    assert.equal(await page.locator(testid('field-error')).count(), 0);
    await shot(page, 'wizard-4-training', { tall: true });

    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-review')).waitFor();
    const sent = await sentConfig();
    assert.deepEqual(Object.keys(sent).sort(), ['backend', 'dataset', 'family', 'schedule', 'seed', 'tricks']);
    assert.deepEqual(sent.tricks, { instanceNoise: 0.1 });
    assert.deepEqual(sent.schedule, { steps: 400 });
    assert.equal(sent.family, 'wgan-gp');
    assert.equal(sent.dataset, RING);
  });

  it('measures the step time with a dry run', async () => {
    await page.click(testid('dry-run-start'));
    await page.locator(`${testid('dry-run')}[data-status="running"]`).waitFor();
    await page.locator(`${testid('dry-run')}[data-status="done"]`).waitFor({ timeout: 60_000 });
    assert.match((await page.textContent(testid('dry-run-ms'))) ?? '', /^[\d.e+-]+ ms$/);
    assert.match((await page.textContent(testid('dry-run-backend'))) ?? '', /wasm/);
    assert.match((await page.textContent(testid('dry-run-params'))) ?? '', /G \S+.* · D \S+/);
    await page.locator(testid('review-eta')).waitFor();
    await page.locator(testid('wizard-memory-estimate')).waitFor();
    await shot(page, 'wizard-5-review', { tall: true });
  });

  it('exports the resolved run.json', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(testid('export-run-json'))]);
    const file = await download.path();
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const resolved = resolveRunConfig(config);
    assert.equal(resolved.family, 'wgan-gp');
    assert.equal(resolved.tricks.instanceNoise, 0.1);
    assert.equal(resolved.regularizers.gradientPenalty, 10);
    assert.match(download.suggestedFilename(), /\.run\.json$/);
  });

  it('saves a preset that is listed after a reload and applies it', async () => {
    await page.fill(testid('preset-name'), PRESET);
    await page.click(testid('preset-save'));
    await page.locator(`${testid('preset-item')}[data-name="${PRESET}"]`).waitFor();
    // a bad entry and a stray value next to it are ignored on load
    const key = 'gan-studio:wizard-presets:v1';
    await page.evaluate((k) => {
      const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
      const list = JSON.parse(storage.getItem(k) ?? '[]') as unknown[];
      list.push({ name: 'broken', savedAt: 1, config: { family: 'nope' } }, 42);
      storage.setItem(k, JSON.stringify(list));
    }, key);
    await page.reload();
    await page.locator(testid('wizard-step-dataset')).waitFor();
    const item = page.locator(`${testid('preset-item')}[data-name="${PRESET}"]`);
    await item.waitFor();
    assert.equal(await page.locator(testid('preset-item')).count(), 1);
    await shot(page, 'wizard-6-presets', { tall: true });
    await item.locator(testid('preset-apply')).click();
    await page.locator(testid('wizard-step-review')).waitFor();
    const sent = await sentConfig();
    assert.equal(sent.family, 'wgan-gp');
    assert.deepEqual(sent.tricks, { instanceNoise: 0.1 });
    assert.equal(sent.backend, 'wasm');
  });

  it('starts the run and shows the GAN Lab view and the other signals', async () => {
    await page.click(testid('wizard-start'));
    await page.locator(testid('run-page')).waitFor();
    await page.locator(testid('sample-image')).waitFor({ timeout: 60_000 });
    await until('the GAN Lab view to load', () => loadedWidth(page, testid('sample-image')), (w) => w > 0);
    const box = await page.locator(testid('sample-image')).boundingBox();
    assert.ok(box && box.width >= 300, `the 2-D view is drawn ${box?.width ?? 0} px wide`);
    // WGAN-GP reports gradient norms: charted under "Other signals"
    await page.locator(testid('chart-group-grad')).waitFor({ timeout: 60_000 });
    await until('points in the gradient-norm chart', async () => Number(await page.getAttribute(testid('chart-group-grad'), 'data-points')), (n) => n >= 6, 60_000);
    await shot(page, 'wizard-7-run', { tall: true });
  });

  it('refuses pix2pix on labelled MNIST with the reason', async () => {
    await openWizard();
    await page.check(testid(`wizard-dataset-${MNIST}`));
    const card = page.locator('label', { has: page.locator(testid(`wizard-dataset-${MNIST}`)) });
    assert.equal(await card.locator(testid('dataset-kind')).textContent(), 'labelled images');
    await page.click(testid('wizard-next'));
    await page.locator(testid('family-recommendation')).waitFor();
    assert.match((await page.getAttribute(testid('family-recommendation'), 'data-families')) ?? '', /^cgan/);
    await page.check(testid('wizard-family-pix2pix'));
    const err = page.locator(`${testid('field-error')}[data-field="family"]`);
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /pairs.*labelled images/);
    assert.match((await page.textContent(`${testid('family-card-pix2pix')} ${testid('family-mismatch')}`)) ?? '', /pairs/);
    assert.equal(await page.isDisabled(testid('wizard-next')), true);
    assert.equal(await page.isDisabled(testid('wizard-start')), true);
    await shot(page, 'wizard-8-refused', { tall: true });
  });

  it('evaluation during training: off by default, needs checkpoints, reaches the stored run config', async () => {
    // the wizard is still open on the refused pix2pix: back to its first step
    await page.click(testid('wizard-tab-dataset'));
    await page.locator(testid('wizard-step-dataset')).waitFor();
    await page.check(testid(`wizard-dataset-${MNIST}`));
    await page.click(testid('wizard-next'));
    await page.check(testid('wizard-family-dcgan'));
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-model')).waitFor();
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-training')).waitFor();
    await page.fill(testid('field-steps'), '40');
    await page.fill(testid('field-batch-size'), '16');
    await page.check(testid('backend-wasm'));
    await page.fill(testid('field-schedule.checkpointEvery'), '0');
    assert.equal(await page.isChecked(testid('eval-enabled')), false);
    assert.equal(await page.textContent(testid('evaluation-summary')), 'off');

    await page.check(testid('eval-enabled'));
    // without periodic checkpoints the core's rule is named at evaluation.every and Start is refused
    const rule = page.locator(`${testid('field-error')}[data-field="evaluation.every"]`);
    await rule.waitFor();
    assert.match((await rule.textContent()) ?? '', /set schedule\.checkpointEvery > 0/);
    assert.equal(await page.isDisabled(testid('wizard-start')), true);
    await page.fill(testid('eval-every'), '20');
    await page.click(testid('eval-set-checkpoints'));
    assert.equal(await page.inputValue(testid('field-schedule.checkpointEvery')), '20');
    await rule.waitFor({ state: 'detached' });
    // N below the schema's minimum is named at its field
    await page.fill(testid('eval-n'), '8');
    const nError = page.locator(`${testid('field-error')}[data-field="evaluation.n"]`);
    await nError.waitFor();
    await page.fill(testid('eval-n'), '64');
    await nError.waitFor({ state: 'detached' });
    // the extractor list comes from extractors.list (the built-in pixel extractors at least)
    await until('the extractor list', () => page.locator(`${testid('eval-extractor')} option`).count(), (n) => n >= 2);
    assert.equal(await page.inputValue(testid('eval-extractor')), 'pixel-8');
    // pixel-8 on grey 28×28 MNIST: d = 64 features, so FID needs N ≥ 65 (a warning; the core would log it at each evaluation)
    await page.locator(testid('eval-fid-warning')).waitFor();
    assert.match((await page.textContent(testid('eval-fid-warning'))) ?? '', /N > d = 64/);
    await page.fill(testid('eval-n'), '128');
    await page.locator(testid('eval-fid-warning')).waitFor({ state: 'detached' });
    await page.uncheck(testid('eval-metric-kid'));
    await page.check(testid('eval-metric-swd'));
    assert.equal(await page.locator(testid('field-error')).count(), 0);
    await page.locator(testid('evaluation-panel')).scrollIntoViewIfNeeded();
    await shot(page, 'wizard-9-evaluation', { tall: true });

    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-review')).waitFor();
    const expected = { every: 20, n: 128, extractor: 'pixel-8', metrics: ['fid', 'swd'] };
    assert.deepEqual((await sentConfig()).evaluation, expected);
    await page.click(testid('wizard-start'));
    await until('the new run page', async () => new URL(page.url()).hash, (h) => h.startsWith('#/runs/'));
    const runId = decodeURIComponent(new URL(page.url()).hash.slice('#/runs/'.length));
    await page.locator(`${testid('run-page')}[data-run-id="${runId}"] ${testid('run-name')}`).waitFor();
    const detail = await pageApiCall(page, 'runs.get', { runId });
    assert.deepEqual(detail.config.evaluation, expected);
    assert.equal(detail.config.schedule.checkpointEvery, 20);
    // nothing more to see here: stop it rather than train on the shared CPU
    await pageApiCall(page, 'runs.stop', { runId }).catch(() => undefined);
  });

  it('saw no CSP violation and no page error', () => {
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
