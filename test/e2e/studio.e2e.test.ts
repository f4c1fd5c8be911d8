// End to end: the real CLI serves the built renderer in browser mode; headless Chromium drives the
// UI through a whole training run. Needs `npm run build:renderer` first (npm run test:e2e does it)
// and /usr/bin/chromium (apt-get install -y chromium).
//
// Backend: on this machine class (2 cores, no GPU) a 28×28 DCGAN at batch 16 runs ~2.7 steps/s on
// wasm while cpu needed over two minutes for its first step, so the run below forces wasm.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { E2eStudio, assertE2ePrerequisites, loadedWidth as imageWidth, shot as screenshot, testid, until } from './helpers.ts';

const STEPS = 200;
const BATCH = 16;

const studio = new E2eStudio();
let page: Page;
let origin = '';
let runId = '';

const shot = (name: string) => screenshot(page, name);
const numberAttr = async (selector: string, name: string): Promise<number> => Number(await page.getAttribute(selector, name));
const chartPoints = () => numberAttr(testid('chart-loss'), 'data-points');
const sampleStep = () => numberAttr(testid('sample-image'), 'data-step');
/** naturalWidth of an image once it has loaded, else 0 */
const loadedWidth = (selector: string) => imageWidth(page, selector);

describe('GAN Studio in the browser', { timeout: 240_000 }, () => {
  before(async () => {
    assertE2ePrerequisites();
    page = await studio.start(studio.temp.make('gan-e2e-home-'), 'gan-e2e-chromium-');
    origin = new URL(studio.url).origin;
  });

  after(() => studio.close());

  it('refuses a page request without the token', async () => {
    const res = await fetch(`${origin}/`);
    assert.equal(res.status, 401);
    const ws = await fetch(`${origin}/api/ws`);
    assert.equal(ws.status, 401);
  });

  it('opens on the Datasets page with MNIST, its preview and 10 class bars', async () => {
    await page.goto(studio.url);
    const row = page.locator(testid('dataset-row'), { hasText: 'MNIST digits' });
    await row.waitFor();
    await row.click();
    await page.locator(testid('connection') + '[data-state="open"]').waitFor();
    assert.match((await page.textContent(testid('dataset-count'))) ?? '', /10,000/);
    const preview = page.locator(testid('dataset-preview'));
    await preview.waitFor();
    await until('the preview image to load', () => loadedWidth(testid('dataset-preview')), (w) => w > 0);
    assert.equal(await page.locator(testid('class-bar')).count(), 10);
    const counts = await page.locator(testid('class-bar')).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      10_000,
    );
    // the token left the address bar; the page has no Node
    assert.equal(new URL(page.url()).searchParams.get('token'), null);
    assert.deepEqual(await page.evaluate(() => [typeof (globalThis as { require?: unknown }).require, typeof (globalThis as { process?: unknown }).process]), ['undefined', 'undefined']);
    await shot('datasets');
  });

  it('names the bad field in the wizard and keeps Start disabled', async () => {
    await page.click(testid('train-on-dataset'));
    await page.locator(testid('wizard-step-family')).waitFor();
    assert.match((await page.textContent(testid('family-summary'))) ?? '', /convolutional/i);
    await page.check(testid('wizard-family-dcgan'));
    await shot('wizard-family');
    await page.click(testid('wizard-tab-training'));
    await page.locator(testid('wizard-step-training')).waitFor();
    await page.fill(testid('field-batch-size'), '0');
    const err = page.locator(`${testid('field-error')}[data-field="schedule.batchSize"]`);
    await err.waitFor();
    assert.ok(((await err.textContent()) ?? '').length > 0);
    assert.equal(await page.isDisabled(testid('wizard-start')), true);
    await shot('wizard-invalid');
  });

  it('starts a run from the wizard and shows it live', async () => {
    await page.fill(testid('field-batch-size'), String(BATCH));
    await page.fill(testid('field-steps'), String(STEPS));
    await page.check(testid('backend-wasm'));
    assert.equal(await page.locator(testid('field-error')).count(), 0);
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-review')).waitFor();
    const sent = JSON.parse((await page.textContent(testid('wizard-review-config'))) ?? '{}') as { config: Record<string, unknown> };
    assert.deepEqual(sent.config.schedule, { steps: STEPS, batchSize: BATCH });
    assert.equal(sent.config.backend, 'wasm');
    await shot('wizard-review');
    assert.equal(await page.isEnabled(testid('wizard-start')), true);
    await page.click(testid('wizard-start'));

    await page.locator(testid('run-page')).waitFor();
    runId = (await page.getAttribute(testid('run-page'), 'data-run-id')) ?? '';
    assert.ok(runId);
    assert.equal(new URL(page.url()).hash, `#/runs/${encodeURIComponent(runId)}`);
    await page.locator(`${testid('status-pill')}[data-status="running"]`).waitFor({ timeout: 60_000 });
    assert.match((await page.textContent(testid('backend-name'))) ?? '', /wasm/);

    // the loss chart gets points, then more
    const firstPoints = await until('points in the loss chart', chartPoints, (n) => n > 0, 60_000);
    await page.locator(testid('sample-image')).waitFor({ timeout: 60_000 });
    const firstStep = await sampleStep();
    const firstSrc = await page.getAttribute(testid('sample-image'), 'src');
    // the sample grid is replaced as training goes on
    await until('a newer sample grid', sampleStep, (step) => step > firstStep, 60_000);
    assert.notEqual(await page.getAttribute(testid('sample-image'), 'src'), firstSrc);
    // the loss chart keeps growing (redraws are throttled, so wait for the next one)
    await until('more points in the loss chart', chartPoints, (n) => n > firstPoints);
    assert.match((await page.textContent(testid('run-step'))) ?? '', new RegExp(`/ ${STEPS}$`));
    await shot('run-live');
  });

  it('pauses, resumes and stops the run', async () => {
    await page.click(testid('run-pause'));
    await page.locator(`${testid('status-pill')}[data-status="paused"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.isEnabled(testid('run-resume')), true);
    assert.equal(await page.isDisabled(testid('run-pause')), true);
    await shot('run-paused');
    await page.click(testid('run-resume'));
    await page.locator(`${testid('status-pill')}[data-status="running"]`).waitFor({ timeout: 30_000 });
    await page.click(testid('run-stop'));
    await page.locator(`${testid('status-pill')}:is([data-status="stopped"], [data-status="completed"])`).waitFor({ timeout: 60_000 });
  });

  it('finds the run in the history after a reload and shows its curves and samples', async () => {
    await page.reload();
    await page.locator(testid('run-page')).waitFor();
    await page.click(testid('nav-runs'));
    const row = page.locator(`${testid('run-row')}[data-run-id="${runId}"]`);
    await row.waitFor();
    // read before opening the run: the row leaves the page then
    const status = (await row.getAttribute('data-status')) ?? '';
    assert.ok(['stopped', 'completed'].includes(status));
    await shot('runs');
    await row.click();
    await page.locator(`${testid('run-page')}[data-run-id="${runId}"]`).waitFor();
    await until('the stored curves', chartPoints, (n) => n > 0);
    await page.locator(testid('sample-image')).waitFor();
    await until('the stored sample to load', () => loadedWidth(testid('sample-image')), (w) => w > 0);
    // a stopped run can be resumed from its last checkpoint; a completed one has no controls
    if (status === 'stopped') {
      assert.equal(await page.locator(testid('run-resume')).isEnabled(), true);
      assert.equal(await page.locator(testid('run-stop')).isEnabled(), false);
    } else {
      assert.equal(await page.locator(testid('run-stop')).count(), 0);
    }
    await shot('run-history');
  });

  it('saw no CSP violation and no page error', () => {
    // CSP violations seen in any page load: console reports plus `securitypolicyviolation` events
    assert.deepEqual(studio.cspViolations, []);
    assert.deepEqual(studio.pageErrors, []);
  });
});
