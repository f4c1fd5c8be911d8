// End to end, diagnostics (issue 7): a home seeded by `gan-studio train --json` with a run that
// diverges in a few steps (plain SGD at lr 1, as in test/integration/diagnostics-runs.test.ts),
// served by the real CLI; the run page shows its alerts with explanation, evidence, sample grid
// and remedies, shades their regions on the charts, and "Fork with this remedy" opens the new run.
// The wizard's Diagnostics form: a changed threshold is checked with the core's schema and reaches
// the started run's stored diagnostics config (read back through runs.get), which the run page
// shows. A run that diverges with automatic rollback on shows its rolled-back alerts as such.
// Needs `npm run build:renderer` first (npm run test:e2e does it) and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { DiagnosticsConfig } from '../../electron/common/diagnostics-config.ts';
import { CHROMIUM, CLI, ROOT, StudioServer, TempDirs, launchBrowser, loadedWidth, openRunPage, shot, testid, until } from './helpers.ts';
import { pageApiCall } from './page-api.ts';

const server = new StudioServer();
const temp = new TempDirs();
let context: BrowserContext | null = null;
let page: Page;
let launchUrl = '';
let runId = '';
let home = '';
let cspViolations: string[] = [];
let pageErrors: string[] = [];

/** Trains the diverging run into `home` and returns its id. */
function seedDivergingRun(home: string): string {
  const config = path.join(home, 'diverge.json');
  const sgd = { kind: 'sgd', lr: 1, beta1: 0, beta2: 0.9 };
  writeFileSync(
    config,
    JSON.stringify({
      objective: 'non-saturating',
      architecture: { gChannels: 16, dChannels: 8, latentDim: 16, gNorm: 'none' },
      optimizer: { g: sgd, d: sgd },
      schedule: { scalarEvery: 1, checkpointEvery: 0, sampleEverySeconds: 1 },
    }),
  );
  const args = [CLI, 'train', '--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', '300', '--batch', '8', '--backend', 'wasm', '--seed', '7', '--name', 'diverging', '--config', config, '--home', home, '--json'];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; runId?: string; status?: string; kind?: string });
  const done = lines.find((l) => l.type === 'done');
  assert.equal(done?.status, 'diverged', r.stderr);
  assert.ok(lines.some((l) => l.type === 'alert' && l.kind === 'divergence'), r.stdout);
  return done!.runId!;
}

describe('diagnostics alerts on the run page', { timeout: 120_000 }, () => {
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/renderer/index.html')), 'run `npm run build:renderer` first');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    home = temp.make('gan-e2e-alerts-home-');
    runId = seedDivergingRun(home);
    launchUrl = await server.start(home);
    ({ context, page, cspViolations, pageErrors } = await launchBrowser(temp.make('gan-e2e-alerts-chromium-')));
  });

  after(async () => {
    await context?.close().catch(() => {});
    await server.stop();
    temp.removeAll();
  });

  it('lists the divergence alert with its explanation, evidence, sample grid and remedies', async () => {
    await page.goto(launchUrl);
    await page.locator(testid('connection') + '[data-state="open"]').waitFor();
    await page.evaluate((id) => ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/runs/${encodeURIComponent(id)}`), runId);
    await page.locator(`${testid('run-page')}[data-run-id="${runId}"] ${testid('run-name')}`).waitFor();

    const alert = page.locator(`${testid('alert')}[data-kind="divergence"]`);
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-severity'), 'critical');
    const alertId = (await alert.getAttribute('data-alert-id'))!;
    assert.match(alertId, /^divergence:\d+$/);
    assert.match((await alert.locator('.range').textContent()) ?? '', /step/);

    await alert.locator(testid('alert-toggle')).click();
    assert.match((await alert.locator(testid('alert-explanation')).textContent()) ?? '', /NaN|infinite|loss/i);
    assert.match((await alert.locator(testid('alert-evidence')).textContent()) ?? '', /gLoss/);
    await alert.locator(testid('alert-sample')).waitFor();
    await until('the alert sample grid to load', () => loadedWidth(page, `${testid('alert')}[data-kind="divergence"] ${testid('alert-sample')}`), (w) => w > 0);
    const remedies = await alert.locator(testid('remedy')).evaluateAll((els) => els.map((e) => e.getAttribute('data-remedy-id')));
    assert.ok(remedies.includes('lower_lr'), JSON.stringify(remedies));

    // its region is shaded on the loss chart (its evidence tags are loss/g and loss/d) and marked on the timeline
    const loss = page.locator(testid('chart-loss'));
    await until('the loss chart to shade the alert', async () => (await loss.getAttribute('data-alert-regions')) ?? '', (ids) => ids.split(' ').includes(alertId));
    assert.ok(((await loss.getAttribute('data-alert-markers')) ?? '').split(' ').includes(alertId));
    // the gradient alert's region lands on the gradient-norm chart, not the D-output one
    const grad = page.locator(testid('chart-group-grad'));
    await grad.waitFor();
    await until('the gradient chart to shade its alert', async () => (await grad.getAttribute('data-alert-regions')) ?? '', (ids) => /gradient:/.test(ids));
    assert.equal(await page.locator(testid('chart-d')).getAttribute('data-alert-regions'), null);
    await shot(page, 'alerts-run-page', { tall: true });
  });

  it('forks a new run with the remedy and opens it', async () => {
    const alert = page.locator(`${testid('alert')}[data-kind="divergence"]`);
    await alert.locator(`${testid('remedy')}[data-remedy-id="lower_lr"] ${testid('fork-remedy')}`).click();
    await until('the new run page', async () => new URL(page.url()).hash, (h) => h.startsWith('#/runs/') && h !== `#/runs/${encodeURIComponent(runId)}`);
    const childId = decodeURIComponent(new URL(page.url()).hash.slice('#/runs/'.length));
    await page.locator(`${testid('run-page')}[data-run-id="${childId}"] ${testid('run-name')}`).waitFor();
    await page.locator(testid('alerts-panel')).waitFor();
    await shot(page, 'alerts-forked-run');
  });

  it("the wizard's Diagnostics form: a changed threshold is validated and reaches the run", async () => {
    await page.click(testid('nav-new'));
    await page.locator(testid('wizard-step-dataset')).waitFor();
    await page.check(testid('wizard-dataset-builtin:ring8'));
    await page.click(testid('wizard-next'));
    await page.check(testid('wizard-family-dcgan'));
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-model')).waitFor();
    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-training')).waitFor();
    await page.fill(testid('field-steps'), '150');
    await page.check(testid('backend-wasm'));

    await page.click(testid('diagnostics-toggle'));
    const field = testid('diag-modeCollapse.diversityBelow');
    assert.equal(await page.inputValue(field), '0.5');
    // a critical threshold above the warning one breaks the schema's rule: named at its field, start refused
    await page.fill(field, '0.2');
    const error = page.locator(`${testid('field-error')}[data-field="diagnostics.modeCollapse.criticalBelow"]`);
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /criticalBelow must not exceed diversityBelow/);
    assert.equal(await page.isDisabled(testid('wizard-start')), true);
    await page.fill(field, '0.4');
    await error.waitFor({ state: 'detached' });
    await page.check(testid('diag-rollback-enabled'));
    await page.fill(testid('diag-rollback-lrFactor'), '0.25');
    assert.equal(await page.locator(testid('field-error')).count(), 0);
    assert.equal(await page.isDisabled(testid('wizard-start')), false);
    await page.locator(testid('diagnostics-panel')).scrollIntoViewIfNeeded();
    await shot(page, 'alerts-wizard-diagnostics', { tall: true });

    await page.click(testid('wizard-next'));
    await page.locator(testid('wizard-step-review')).waitFor();
    await page.click(testid('wizard-start'));
    await until('the new run page', async () => new URL(page.url()).hash, (h) => h.startsWith('#/runs/'));
    const newId = decodeURIComponent(new URL(page.url()).hash.slice('#/runs/'.length));
    await page.locator(`${testid('run-page')}[data-run-id="${newId}"] ${testid('run-name')}`).waitFor();
    // the run's stored diagnostics, read through the API: the changes, with the defaults filled in
    const detail = await pageApiCall(page, 'runs.get', { runId: newId });
    const stored = detail.diagnostics as DiagnosticsConfig | undefined;
    assert.ok(stored, 'runs.get returns the run\'s diagnostics config');
    assert.equal(stored.modeCollapse.diversityBelow, 0.4);
    assert.equal(stored.modeCollapse.criticalBelow, 0.25);
    assert.equal(stored.warmupSteps, 100);
    assert.deepEqual(stored.rollback, { enabled: true, onKinds: ['divergence'], maxRollbacks: 3, lrFactor: 0.25 });
    // …and the run page shows the thresholds in force
    await page.click(`${testid('diagnostics-thresholds')} summary`);
    assert.equal(await page.textContent(testid('threshold-modeCollapse.diversityBelow')), '0.4');
    assert.match((await page.textContent(testid('threshold-rollback'))) ?? '', /Divergence · at most 3 · learning rates ×0\.25/);
    await page.locator(testid('diagnostics-thresholds')).scrollIntoViewIfNeeded();
    await shot(page, 'alerts-thresholds-in-force', { tall: true });
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
  it('a run rolled back automatically shows each rollback as such, with where it went back to', async () => {
    // SGD at lr 1 diverges at step 6 (see seedDivergingRun); checkpoints every 2 steps give the rollback somewhere to go
    const sgd = { kind: 'sgd', lr: 1, beta1: 0, beta2: 0.9 };
    const config = {
      dataset: 'builtin:mnist',
      family: 'dcgan',
      backend: 'wasm',
      seed: 7,
      objective: 'non-saturating',
      architecture: { gChannels: 16, dChannels: 8, latentDim: 16, gNorm: 'none' },
      optimizer: { g: sgd, d: sgd },
      schedule: { steps: 40, batchSize: 8, scalarEvery: 1, checkpointEvery: 2, sampleEverySeconds: 1 },
    };
    const started = await pageApiCall(page, 'runs.start', { config, diagnostics: { rollback: { enabled: true, lrFactor: 0.1 } } });
    const end = await until('the rolled-back run to finish', () => pageApiCall(page, 'runs.get', { runId: started.id }), (d) => ['completed', 'stopped', 'diverged', 'failed', 'interrupted'].includes(d.status), 90_000);
    const alerts = await pageApiCall(page, 'runs.alerts', { runId: started.id });
    const records = alerts.filter((a) => a.evidence.values.rolledBackTo !== undefined);
    assert.ok(records.length >= 1, `status ${end.status}; alerts ${JSON.stringify(alerts.map((a) => [a.id, a.evidence.values]))}`);
    const first = records.sort((a, b) => a.evidence.values.rollback! - b.evidence.values.rollback!)[0]!;

    await openRunPage(page, started.id);
    const row = page.locator(`${testid('alert')}[data-alert-id="${first.id}"]`);
    await row.waitFor();
    assert.equal(await row.locator(testid('alert-rolled-back')).getAttribute('data-to'), String(first.evidence.values.rolledBackTo));
    // (a later rollback after the same alert kind at the same step replaces the earlier record: alerts are keyed by kind and start step)
    assert.equal((await row.locator(testid('alert-rollback')).textContent())?.trim(), `↶ rolled back to step ${first.evidence.values.rolledBackTo} (learning rates ×0.1) · rollback ${first.evidence.values.rollback}`);
    // the rollback's numbers are not repeated as raw evidence
    await row.locator(testid('alert-toggle')).click();
    assert.doesNotMatch((await row.locator(testid('alert-evidence')).textContent()) ?? '', /rolledBackTo|lrFactor/);
    // and the step it went back to is marked on the loss chart's timeline
    await until('the rollback marker on the loss chart', async () => (await page.locator(testid('chart-loss')).getAttribute('data-alert-markers')) ?? '', (ids) => ids.split(' ').includes(`rollback:${first.id}`));
    await shot(page, 'alerts-rolled-back', { tall: true });
    assert.deepEqual(pageErrors, []);
  });
});
