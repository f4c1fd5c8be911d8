// End to end, human rating sessions (issue 8): a home seeded with two short real runs
// (`gan-studio train --json`), served by the real CLI; headless Chromium creates sessions from the
// Ratings page and rates them with the keyboard only: a real-or-fake session (results with
// intervals), a pairwise preference session between the two runs (Bradley–Terry ranking, win
// rates), a timed real-or-fake session whose measured exposures must be within one frame of the
// requested ones, and the refusals (no real images; fewer than two sources).
// Needs the renderer built (npm run build:renderer, or GAN_STUDIO_RENDERER_DIST) and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { E2eStudio, assertE2ePrerequisites, openStudio, shot, testid, trainWithCli, trainedRun, until } from './helpers.ts';

/** one frame at 60 Hz: the bound on |measured − requested| exposure */
const FRAME_MS = 1000 / 60;

const studio = new E2eStudio();
let page: Page;
let runA = '';
let runB = '';

/** A short run trained into `home` with the CLI. */
const train = (home: string, name: string, seed: number, lr: number) => trainWithCli(home, ['--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', '20', '--batch', '8', '--lr-g', String(lr), '--backend', 'wasm', '--seed', String(seed), '--name', name]);

type ScreenState = { phase: string | null; id: string | null; ready: string | null; timed: string | null; requested: string | null; measured: string | null; repeats: string | null };
const screenState = (): Promise<ScreenState> =>
  page.evaluate(`(() => {
    const screen = document.querySelector('[data-testid="rating-screen"]');
    const stage = document.querySelector('[data-testid="rating-stage"]');
    const a = (el, n) => (el ? el.getAttribute(n) : null);
    return { phase: a(screen, 'data-phase'), id: a(stage, 'data-item-id'), ready: a(stage, 'data-ready'), timed: a(stage, 'data-timed-phase'),
      requested: a(stage, 'data-exposure-requested'), measured: a(stage, 'data-exposure-measured'), repeats: a(stage, 'data-exposure-repeats') };
  })()`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Answers every item of the open rating screen with the keyboard: `keyFor(i)` for the i-th item;
 * timed items are first flashed with space. Returns the exposures of timed items.
 */
async function rateAll(keyFor: (i: number) => string | string[], timed = false): Promise<{ requested: number; measured: number; repeats: number }[]> {
  const exposures: { requested: number; measured: number; repeats: number }[] = [];
  let last = '';
  let answered = 0;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const s = await screenState();
    if (s.phase === 'done') return exposures;
    if (s.phase === 'break') {
      await page.keyboard.press('Space');
      await sleep(50);
      continue;
    }
    if (s.phase === 'error') throw new Error('the rating screen shows an error');
    if (s.phase !== 'item' || s.ready !== 'true' || !s.id || s.id === last) {
      await sleep(20);
      continue;
    }
    if (timed) {
      if (s.timed === 'ready') {
        await page.keyboard.press('Space');
        // masked, or shown again when the display skipped frames (a repeat)
        await until('the end of the exposure', screenState, (x) => x.timed === 'masked' || x.repeats !== s.repeats, 15_000);
        continue;
      }
      if (s.timed !== 'masked') {
        await sleep(20);
        continue;
      }
      exposures.push({ requested: Number(s.requested), measured: Number(s.measured), repeats: Number(s.repeats) });
    }
    last = s.id;
    for (const key of [keyFor(answered++)].flat()) await page.keyboard.press(key);
  }
  throw new Error(`rating did not finish within 60 s (${answered} answered)`);
}

/** Opens the New session form on the Ratings page (by keyboard: 4), sets type, items, raters. */
async function newSession(type: string, items: number, raters: string): Promise<void> {
  await page.keyboard.press('4');
  await page.locator(testid('ratings-page')).waitFor();
  await page.click(testid('rating-new'));
  await page.locator(testid('rating-form')).waitFor();
  // the form suggests the newest run and its dataset's real set once they have loaded
  await until('the suggested sources', () => page.locator(testid('rating-source')).count(), (n) => n >= 2);
  await page.selectOption(testid('rating-type'), type);
  await page.fill(testid('rating-items'), String(items));
  await page.fill(testid('rating-raters'), raters);
}

/** Creates the session and waits until its page says it is open for rating. */
async function createAndOpen(): Promise<string> {
  await page.click(testid('rating-create'));
  const view = page.locator(`${testid('rating-session')}[data-state="open"]`);
  await view.waitFor({ timeout: 90_000 });
  return (await view.getAttribute('data-session-id')) ?? '';
}

/** Starts the first unfinished rater with the keyboard (its Start button has the focus). */
async function startRater(name: string): Promise<void> {
  const button = page.locator(`${testid('rating-rater')}[data-rater="${name}"] ${testid('rating-start')}`);
  await button.focus();
  await page.keyboard.press('Enter');
  await page.locator(testid('rating-screen')).waitFor();
}

/** After the last answer: the thank-you screen, then Enter back to the session. */
async function leaveDone(): Promise<void> {
  await page.locator(testid('rating-done')).waitFor();
  await page.keyboard.press('Enter');
  await page.locator(testid('rating-screen')).waitFor({ state: 'detached' });
}

describe('human rating sessions in the browser', { timeout: 180_000 }, () => {
  before(async () => {
    assertE2ePrerequisites();
    const home = studio.temp.make('gan-e2e-ratings-home-');
    // side by side; the second starts once the first has made the home and its database
    const a = train(home, 'run-a', 3, 0.0002);
    await a.started;
    const b = train(home, 'run-b', 4, 0.002);
    [runA, runB] = await Promise.all([trainedRun(a), trainedRun(b)]);
    page = await studio.start(home, 'gan-e2e-ratings-chromium-');
    await openStudio(page, studio.url);
  });

  after(() => studio.close());

  it('refuses a real-or-fake session without real images and a preference session with one source, saying why', async () => {
    await newSession('real_fake', 8, 'Ann');
    // drop the suggested real set: only generated images are left
    await page.locator(`${testid('rating-source')}[data-kind="real"] ${testid('rating-source-remove')}`).click();
    await page.click(testid('rating-create'));
    const err = page.locator(testid('rating-create-error'));
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /real images/i);
    await shot(page, 'ratings-refused-no-real');

    await page.selectOption(testid('rating-type'), 'preference');
    await until('the old refusal to clear', () => err.count(), (n) => n === 0);
    await page.click(testid('rating-create'));
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /two or more sources/i);

    // a field the schema refuses is named beside it, before anything is sent
    await page.fill(testid('rating-raters'), '');
    const raterErr = page.locator(`${testid('field-error')}[data-field="raters"]`);
    await raterErr.waitFor();
    assert.equal(await page.isDisabled(testid('rating-create')), true);
    await page.click(testid('rating-cancel'));
  });

  it('runs a real-or-fake session rated with the keyboard only and shows its scores with intervals', async () => {
    await newSession('real_fake', 8, 'Ann');
    await page.locator(testid('rating-source-run')).first().selectOption(runA);
    const sessionId = await createAndOpen();
    assert.ok(sessionId);
    assert.equal(new URL(page.url()).hash, `#/ratings/${sessionId}`);
    await startRater('Ann');
    await until('the first item', screenState, (s) => s.phase === 'item' && s.ready === 'true');
    await shot(page, 'ratings-real-fake-screen');
    // blinded: nothing on the rating screen names a run or the dataset
    const text = (await page.locator(testid('rating-screen')).textContent()) ?? '';
    assert.doesNotMatch(text, /run-a|mnist/i);
    // Z takes the last answer back: the same item returns and the count goes back to 0
    const first = (await screenState()).id;
    await page.keyboard.press('f');
    await until('the second item', screenState, (s) => s.phase === 'item' && s.ready === 'true' && s.id !== first);
    await page.keyboard.press('z');
    await until('the first item again', screenState, (s) => s.phase === 'item' && s.ready === 'true' && s.id === first);
    assert.equal(await page.locator(testid('rating-progress')).getAttribute('data-done'), '0');
    // f / j alternately (and the arrow keys once)
    await rateAll((i) => (i === 0 ? 'ArrowRight' : i % 2 ? 'f' : 'j'));
    await leaveDone();

    await page.locator(`${testid('rating-session')}[data-state="finished"]`).waitFor();
    await page.locator(testid('rating-results-complete')).waitFor({ timeout: 30_000 });
    const fakes = page.locator(testid('score-error-fakes'));
    const value = Number(await fakes.getAttribute('data-value'));
    const low = Number(await fakes.getAttribute('data-low'));
    const high = Number(await fakes.getAttribute('data-high'));
    assert.ok(value >= 0 && value <= 1, `error on fakes ${value}`);
    assert.ok(low <= value && value <= high, `interval [${low}, ${high}] around ${value}`);
    assert.ok((await page.locator(`${testid('plot-realfake')} ${testid('plot-realfake-row')}`).count()) >= 3);
    const rater = page.locator(`${testid('rater-row')}[data-rater="Ann"]`);
    const accuracy = Number(await rater.getAttribute('data-accuracy'));
    assert.ok(accuracy >= 0 && accuracy <= 1);
    await shot(page, 'ratings-real-fake-results', { tall: true });

    // the run page shows the human score of the finished session
    await page.evaluate(`location.hash = '#/runs/${encodeURIComponent(runA)}'`);
    const human = page.locator(`${testid('human-rating')}[data-session-id="${sessionId}"]`);
    await human.waitFor();
    assert.ok(((await human.textContent()) ?? '').includes('%'));

  });

  it('ranks two runs from a pairwise preference session driven by the keyboard', async () => {
    await newSession('preference', 6, 'Ann, Ben');
    // the two runs: turn the suggested real set into the second run
    await page.locator(`${testid('rating-source')}[data-kind="real"] ${testid('rating-source-remove')}`).click();
    await page.click(testid('rating-add-checkpoint'));
    const runSelects = page.locator(testid('rating-source-run'));
    await runSelects.nth(0).selectOption(runA);
    await runSelects.nth(1).selectOption(runB);
    await page.fill(testid('rating-question'), 'Which digit looks more natural?');
    const sessionId = await createAndOpen();
    for (const rater of ['Ann', 'Ben']) {
      await startRater(rater);
      await until('the first pair', screenState, (s) => s.phase === 'item' && s.ready === 'true');
      if (rater === 'Ann') {
        assert.equal(await page.textContent(testid('rating-question-text')), 'Which digit looks more natural?');
        await shot(page, 'ratings-preference-screen');
      }
      // left, right and "cannot tell" (space)
      await rateAll((i) => ['f', 'j', 'ArrowLeft', 'Space'][i % 4]!);
      await leaveDone();
      if (rater === 'Ann') {
        // half finished: the results say so and the session is not finished
        await page.locator(testid('rating-results-provisional')).waitFor({ timeout: 30_000 });
        assert.equal(await page.getAttribute(testid('rating-session'), 'data-state'), 'open');
        // the rater kit for Ben, who has not rated yet; an answers file that does not fit is refused, saying why
        await page.click(testid('rating-kit-export'));
        assert.match((await page.locator(testid('rating-kit-path')).textContent({ timeout: 30_000 })) ?? '', /\S/);
        await page.setInputFiles(testid('rating-import-file'), { name: 'answers.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ sessionId, rater: 'Ben', answers: [{ itemId: 'nope' }] })) });
        const importErr = page.locator(testid('rating-import-error'));
        await importErr.waitFor();
        assert.match((await importErr.textContent()) ?? '', /not imported: .{10,}/);
        await shot(page, 'ratings-kit-import-refused');
      }
    }
    await page.locator(testid('rating-results-complete')).waitFor({ timeout: 30_000 });
    const rows = page.locator(testid('ranking-row'));
    assert.equal(await rows.count(), 2);
    const ranks = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rank'))));
    const ratings = await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-rating'))));
    assert.ok(ratings.every(Number.isFinite));
    // listed best first; equal ratings (a tied tournament) share a rank
    assert.equal(ranks[0], 1);
    assert.ok(ratings[0]! >= ratings[1]!);
    assert.equal(ranks[1], ratings[0]! > ratings[1]! ? 2 : 1, JSON.stringify({ ranks, ratings }));
    // the win-rate matrix: the two off-diagonal cells add up to 1
    const cells = await page.locator(testid('winrate-cell')).evaluateAll((els) => els.map((e) => ({ r: e.getAttribute('data-row'), c: e.getAttribute('data-col'), v: e.getAttribute('data-value') })));
    const off = cells.filter((c) => c.r !== c.c && c.v !== '').map((c) => Number(c.v));
    assert.equal(off.length, 2);
    assert.ok(Math.abs(off[0]! + off[1]! - 1) < 1e-9, JSON.stringify(off));
    assert.ok((await page.locator(testid('rating-agreement')).textContent())?.includes('κ'));
    await shot(page, 'ratings-preference-results', { tall: true });
  });

  it('measures timed exposures within one frame of the requested ones', async () => {
    await newSession('timed_real_fake', 8, 'Ann');
    await page.fill(testid('rating-stair-start'), '300');
    await page.fill(testid('rating-stair-floor'), '100');
    await createAndOpen();
    await startRater('Ann');
    const exposures = await rateAll((i) => (i % 3 === 0 ? 'j' : 'f'), true);
    assert.ok(exposures.length >= 8, `${exposures.length} exposures`);
    // the staircase moved the requests; each measured exposure is within one frame of its request
    assert.ok(new Set(exposures.map((e) => e.requested)).size >= 2, JSON.stringify(exposures));
    for (const e of exposures) assert.ok(Math.abs(e.measured - e.requested) <= FRAME_MS, `requested ${e.requested} ms, measured ${e.measured} ms`);
    await leaveDone();
    // and the same read back from the core's results
    const err = page.locator(testid('exposure-error'));
    await err.waitFor({ timeout: 30_000 });
    const max = Number(await err.getAttribute('data-max'));
    assert.ok(Number.isFinite(max) && max <= FRAME_MS, `max |measured − requested| ${max} ms`);
    await shot(page, 'ratings-timed-results', { tall: true });
    console.log(`timed exposures (requested → measured ms, repeats): ${exposures.map((e) => `${e.requested}→${e.measured.toFixed(1)}${e.repeats ? ` (${e.repeats}×)` : ''}`).join(', ')}`);
  });

  it('rates quality with 1–5 and tags duplicates in a grid with number keys', async () => {
    await newSession('quality', 4, 'Ann');
    await page.locator(`${testid('rating-source')}[data-kind="real"] ${testid('rating-source-remove')}`).click();
    await createAndOpen();
    await startRater('Ann');
    await rateAll((i) => String((i % 5) + 1));
    await leaveDone();
    await page.locator(testid('rating-results-complete')).waitFor({ timeout: 30_000 });
    const mean = Number(await page.locator(testid('quality-row')).first().getAttribute('data-mean'));
    assert.ok(mean >= 1 && mean <= 5, `mean quality ${mean}`);

    await newSession('duplicates', 2, 'Ann');
    await page.locator(`${testid('rating-source')}[data-kind="real"] ${testid('rating-source-remove')}`).click();
    await page.selectOption(testid('rating-grid-size'), '4');
    await createAndOpen();
    await startRater('Ann');
    await until('the first grid', screenState, (s) => s.phase === 'item' && s.ready === 'true');
    // 1 and 3 mark, 3 again unmarks (the cursor stays on cell 3), → moves to cell 4 and space marks it
    for (const key of ['1', '3', '3', 'ArrowRight', 'Space']) await page.keyboard.press(key);
    const marks = await page.locator(testid('rating-dup-cell')).evaluateAll((els) => els.map((e) => e.getAttribute('data-marked')));
    assert.deepEqual(marks, ['true', 'false', 'false', 'true']);
    await shot(page, 'ratings-duplicates-screen');
    await rateAll(() => ['2', 'Enter']);
    await leaveDone();
    await page.locator(testid('rating-results-complete')).waitFor({ timeout: 30_000 });
    const dup = page.locator(`${testid('plot-duplicates')} ${testid('plot-duplicates-row')}`).first();
    const rate = Number(await dup.getAttribute('data-value'));
    assert.ok(rate > 0 && rate <= 1, `duplicate rate ${rate}`);
  });

  it('saw no CSP violation and no page error', () => {
    assert.deepEqual(studio.cspViolations, []);
    assert.deepEqual(studio.pageErrors, []);
  });
});
