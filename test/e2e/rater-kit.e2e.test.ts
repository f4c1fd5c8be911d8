// End to end, the offline rater kit (issue 8): a home with one short real run (`gan-studio train
// --json`), rating sessions made with `gan-studio rating create`, kits written with `rating kit`,
// each kit opened straight from disk (file://, no server) in headless Chromium and answered with
// the keyboard only: progress shown, a reload resumes, a break is suggested, the answers file is
// downloaded, then imported with `rating import-answers` and counted by `rating show --json`. An
// edited answers file is refused with a clear message and stores nothing. A timed kit measures
// its exposures within one frame of the core's staircase; a preference kit records ties; a kit
// whose manifest this page cannot run says so. Needs /usr/bin/chromium and the kit's page script
// (dist/rater-kit/kit.js, bundled from renderer/src/rater-kit/kit.ts by `npm run build:renderer`
// or `node scripts/build-kit.mjs`); not the renderer build.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { RatingResults, RatingSession } from '../../electron/common/api-rating.ts';
import { KIT_SCRIPT } from '../../electron/core/rating/kit.ts';
import { CHROMIUM, CLI, ROOT, TempDirs, launchBrowser, shot, until } from './helpers.ts';

const FRAME_MS = 1000 / 60;
const temp = new TempDirs();
let home = '';
let runId = '';
let context: BrowserContext | null = null;
let page: Page;
let cspViolations: string[] = [];
let pageErrors: string[] = [];
const consoleErrors: string[] = [];
const requests: string[] = [];
const failedRequests: string[] = [];

/** The real CLI as a user runs it, asynchronously (several may run side by side on one home). */
function cli(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args, '--home', home], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAN_STUDIO_HOME: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
async function cliJson<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  assert.equal(r.code, 0, `gan-studio ${args.join(' ')} failed:\n${r.out}\n${r.err}`);
  return JSON.parse(r.out.trim().split('\n').at(-1)!) as T;
}

async function createSession(type: string, items: number, raters: string[], extra: string[] = []): Promise<RatingSession> {
  const args = ['rating', 'create', '--type', type, '--source', `run:${runId}`, '--items', String(items), '--seed', '3', ...raters.flatMap((r) => ['--rater', r]), ...extra];
  return (await cliJson<{ session: RatingSession }>(args)).session;
}
/** Into a new folder, or (`into`) an existing empty one. */
async function exportKit(sessionId: string, rater: string, into?: string): Promise<string> {
  const dir = into ?? path.join(temp.make('gan-e2e-kit-'), `kit-${rater}`);
  const kit = await cliJson<{ path: string; files: number }>(['rating', 'kit', sessionId, '--rater', rater, '--out', dir]);
  assert.equal(kit.path, dir);
  return dir;
}
const showSession = (id: string) => cliJson<{ session: RatingSession; results: RatingResults }>(['rating', 'show', id]);

type KitState = { screen: string | null; id: string | null; position: number; ready: boolean; timed: string | null; requested: number; measured: number; repeats: number; counter: string; valueNow: number; valueMax: number; fill: string };
const kitState = (): Promise<KitState> =>
  page.evaluate(`(() => {
    const main = document.getElementById('app');
    const stage = document.querySelector('.stage');
    const bar = document.getElementById('progress');
    const a = (n) => (stage ? stage.getAttribute(n) : null);
    return { screen: main.getAttribute('data-screen'), id: a('data-item-id'), position: Number(a('data-position')), ready: a('data-ready') === 'true',
      timed: a('data-timed-phase'), requested: Number(a('data-exposure-requested')), measured: Number(a('data-exposure-measured')), repeats: Number(a('data-exposure-repeats')),
      counter: document.getElementById('counter').textContent, valueNow: Number(bar.getAttribute('aria-valuenow')), valueMax: Number(bar.getAttribute('aria-valuemax')),
      fill: bar.firstElementChild.style.width };
  })()`);

/**
 * Answers `count` items of the open kit with the keyboard (`keyFor(i)` for the i-th answer in this
 * call); timed items are first flashed with space. Breaks are taken with space and counted.
 */
async function answer(count: number, keyFor: (i: number) => string, timed = false): Promise<{ ids: string[]; breaks: number[]; exposures: { requested: number; measured: number; repeats: number }[] }> {
  const ids: string[] = [];
  const breaks: number[] = [];
  const exposures: { requested: number; measured: number; repeats: number }[] = [];
  const deadline = Date.now() + 60_000;
  let last = '';
  while (ids.length < count) {
    if (Date.now() > deadline) throw new Error(`the kit did not take ${count} answers within 60 s (${ids.length} taken)`);
    const s = await kitState();
    if (s.screen === 'break') {
      breaks.push(s.valueNow);
      await shot(page, 'rater-kit-break');
      await page.keyboard.press('Space');
      await until('the end of the break', kitState, (x) => x.screen !== 'break', 5_000);
      continue;
    }
    if (s.screen !== 'item') throw new Error(`expected an item, the kit shows "${s.screen}"`);
    if (!s.ready || s.id === last) {
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    if (timed) {
      if (s.timed === 'ready') {
        const repeats = s.repeats;
        await page.keyboard.press('Space');
        await until('the end of the exposure', kitState, (x) => x.timed === 'masked' || x.repeats !== repeats, 15_000);
        continue;
      }
      if (s.timed !== 'masked') {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      exposures.push({ requested: s.requested, measured: s.measured, repeats: s.repeats });
    }
    // the progress bar and counter say how many are done
    assert.equal(s.counter, `${s.valueNow} / ${s.valueMax}`);
    assert.ok(Math.abs(parseFloat(s.fill) - (100 * s.valueNow) / s.valueMax) < 0.01, `bar ${s.fill} at ${s.counter}`);
    last = s.id!;
    ids.push(last);
    await page.keyboard.press(keyFor(ids.length - 1));
  }
  return { ids, breaks, exposures };
}

async function openKit(dir: string): Promise<void> {
  await page.goto(pathToFileURL(path.join(dir, 'index.html')).href);
  await until('the start screen', kitState, (s) => s.screen === 'start');
}

/** Presses D on the thank-you screen and returns the downloaded answers file's text. */
async function downloadAnswers(name: string): Promise<{ file: string; text: string }> {
  await until('the thank-you screen', kitState, (s) => s.screen === 'done');
  // the download button has the focus, so Enter or space works as well as D
  assert.equal(await page.evaluate(`document.activeElement && document.activeElement.id`), 'download');
  const waiting = page.waitForEvent('download');
  await page.keyboard.press('d');
  const download = await waiting;
  const file = path.join(temp.make('gan-e2e-kit-dl-'), name);
  await download.saveAs(file);
  return { file, text: await fsp.readFile(file, 'utf8') };
}

interface AnswersFile {
  sessionId: string;
  rater: string;
  finished: boolean;
  signature: string;
  answers: { itemId: string; answer: Record<string, unknown>; responseMs: number; exposureMs?: number }[];
}

describe('the offline rater kit in a browser (file://, no server)', { timeout: 240_000 }, () => {
  let realFake: RatingSession;
  let quality: RatingSession;
  let timedSession: RatingSession;
  let preference: RatingSession;
  let preferenceKit = '';
  let realFakeKit = '';
  let qualityKit = '';
  let timedKit = '';

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    assert.ok(existsSync(KIT_SCRIPT), `${KIT_SCRIPT} is missing: run npm run build:renderer`);
    const t0 = Date.now();
    home = temp.make('gan-e2e-kit-home-');
    const train = await cli(['train', '--dataset', 'builtin:mnist', '--family', 'dcgan', '--steps', '10', '--batch', '8', '--backend', 'wasm', '--seed', '5', '--name', 'kit-run', '--json']);
    const done = train.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; runId?: string; status?: string })
      .find((l) => l.type === 'done');
    assert.equal(done?.status, 'completed', `training did not complete\n${train.out}\n${train.err}`);
    runId = done.runId!;
    const t1 = Date.now();
    // real-or-fake with two raters (bob never rates: the session stays open), a quality session long
    // enough for a break (every 50 items by default), and a short timed session
    [realFake, quality, timedSession, preference] = await Promise.all([
      createSession('real_fake', 6, ['ann', 'bob'], ['--source', 'real:builtin:mnist', '--attention', '0.2']),
      createSession('quality', 52, ['ann'], ['--attention', '0']),
      createSession('timed_real_fake', 6, ['ann'], ['--source', 'real:builtin:mnist', '--attention', '0']),
      createSession('preference', 6, ['ann'], ['--source', 'real:builtin:mnist', '--attention', '0', '--question', 'Which digit looks more natural?']),
    ]);
    // a folder with other files in it is never overwritten by a kit
    const busy = temp.make('gan-e2e-kit-busy-');
    await fsp.writeFile(path.join(busy, 'notes.txt'), 'keep me');
    let refused: { code: number | null; err: string };
    [realFakeKit, qualityKit, timedKit, preferenceKit, refused] = await Promise.all([
      exportKit(realFake.id, 'ann'),
      exportKit(quality.id, 'ann', temp.make('gan-e2e-kit-empty-')),
      exportKit(timedSession.id, 'ann'),
      exportKit(preference.id, 'ann'),
      cli(['rating', 'kit', realFake.id, '--rater', 'bob', '--out', busy]),
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /is not empty and is not a rater kit/);
    assert.deepEqual(await fsp.readdir(busy), ['notes.txt']);
    console.log(`setup: training ${t1 - t0} ms, four sessions and kits ${Date.now() - t1} ms`);

    ({ context, page, cspViolations, pageErrors } = await launchBrowser(temp.make('gan-e2e-kit-chromium-'), { acceptDownloads: true }));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
  });

  after(async () => {
    await context?.close().catch(() => {});
    temp.removeAll();
  });

  it('runs a real-or-fake kit from disk with the keyboard, resumes after a reload, and its answers import', async () => {
    const kitUrl = pathToFileURL(realFakeKit).href;
    const manifest = JSON.parse(await fsp.readFile(path.join(realFakeKit, 'manifest.json'), 'utf8')) as { items: { itemId: string }[]; signature: string };
    const n = manifest.items.length;
    assert.ok(n > 6 && n <= 8, `six scored items and one or two attention checks, got ${n}`);
    requests.length = 0;
    await openKit(realFakeKit);
    // blinded: nothing on the page or in the kit names the run, its family or the dataset
    const startText = await page.locator('body').innerText();
    assert.doesNotMatch(startText, new RegExp(`${runId}|kit-run|mnist|dcgan`, 'i'));
    assert.doesNotMatch(await fsp.readFile(path.join(realFakeKit, 'manifest.js'), 'utf8'), new RegExp(`${runId}|kit-run|mnist|dcgan`, 'i'));
    assert.match(startText, /Real or fake/);
    assert.match(startText, new RegExp(`${n} items`));
    // the start button has the focus and a name
    assert.equal(await page.evaluate(`document.activeElement.textContent`), 'Begin');
    await shot(page, 'rater-kit-start');
    await page.keyboard.press('Space');

    // half the items: f / j alternately, and the arrow keys once each
    const keyFor = (i: number) => (i === 0 ? 'ArrowRight' : i === 1 ? 'ArrowLeft' : i % 2 ? 'f' : 'j');
    const choiceOf = (key: string) => (key === 'ArrowRight' || key === 'j' ? 'real' : 'fake');
    const half = Math.floor(n / 2);
    const first = await answer(1, keyFor);
    await shot(page, 'rater-kit-real-fake-item');
    const alt = await page.locator('.stage img').getAttribute('alt');
    assert.ok(alt && alt.length > 3, 'the image has a text alternative');
    const rest = await answer(half - 1, (i) => keyFor(i + 1));
    const firstHalf = [...first.ids, ...rest.ids];
    await until('the progress after half', kitState, (s) => s.valueNow === half && s.screen === 'item');
    const mid = await kitState();
    assert.equal(mid.counter, `${half} / ${n}`);
    assert.equal(mid.position, half);
    await shot(page, 'rater-kit-real-fake-progress');

    // a reload (the page closed and opened again) resumes where the rater stopped
    await page.reload();
    await until('the start screen after a reload', kitState, (s) => s.screen === 'start');
    assert.match(await page.locator('main').innerText(), new RegExp(`Welcome back: ${half} of ${n} items are answered`));
    assert.equal((await kitState()).counter, `${half} / ${n}`);
    await shot(page, 'rater-kit-resume');
    await page.keyboard.press('Space');
    await until('the first unanswered item', kitState, (s) => s.screen === 'item' && s.ready);
    assert.equal((await kitState()).position, half, 'resumes at the first unanswered item');
    assert.equal((await kitState()).id, manifest.items[half]!.itemId);
    const secondHalf = await answer(n - half, (i) => keyFor(half + i));
    const order = [...firstHalf, ...secondHalf.ids];
    assert.deepEqual(order, manifest.items.map((i) => i.itemId), 'items come in the kit order, each once');

    const { file, text } = await downloadAnswers('answers-ann.json');
    await shot(page, 'rater-kit-done');
    const answers = JSON.parse(text) as AnswersFile;
    assert.equal(answers.sessionId, realFake.id);
    assert.equal(answers.rater, 'ann');
    assert.equal(answers.finished, true);
    assert.equal(answers.signature, manifest.signature);
    assert.deepEqual(
      answers.answers.map((a) => [a.itemId, a.answer.choice]),
      order.map((id, i) => [id, choiceOf(keyFor(i))]),
    );
    for (const a of answers.answers) assert.ok(a.responseMs >= 0 && a.responseMs < 60_000, `response time ${a.responseMs} ms`);

    // every file came from the kit folder itself; no manifest.json fetch (blocked on file://)
    const files = [...new Set(requests.map((u) => u.replace(/[?#].*$/, '')))];
    for (const u of files) assert.ok(u.startsWith(`${kitUrl}/`), `the kit loaded ${u}`);
    // the page script is the bundle built from the studio's TypeScript, copied as it is
    assert.deepEqual(await fsp.readFile(path.join(realFakeKit, 'kit.js')), await fsp.readFile(KIT_SCRIPT));
    const names = files.map((u) => u.slice(kitUrl.length + 1));
    for (const f of ['index.html', 'kit.css', 'manifest.js', 'kit.js']) assert.ok(names.includes(f), `loaded ${f}`);
    assert.ok(!names.includes('manifest.json'));
    assert.ok(names.filter((f) => f.startsWith('img/')).length >= n - 1, `${names.length} files loaded`);

    // edited files are refused, saying why, and store nothing
    const edited = (over: (a: AnswersFile) => void) => {
      const copy = JSON.parse(text) as AnswersFile;
      over(copy);
      return JSON.stringify(copy);
    };
    const tamperedDir = temp.make('gan-e2e-kit-tampered-');
    const asBob = path.join(tamperedDir, 'as-bob.json');
    await fsp.writeFile(asBob, edited((a) => (a.rater = 'bob')));
    const unknownItem = path.join(tamperedDir, 'unknown-item.json');
    await fsp.writeFile(unknownItem, edited((a) => (a.answers[2]!.itemId = 'i-not-in-this-session')));
    const wrongKind = path.join(tamperedDir, 'wrong-kind.json');
    await fsp.writeFile(wrongKind, edited((a) => (a.answers[0]!.answer = { kind: 'quality', score: 5 })));
    const [r1, r2, r3] = await Promise.all([cli(['rating', 'import-answers', asBob]), cli(['rating', 'import-answers', unknownItem]), cli(['rating', 'import-answers', wrongKind])]);
    assert.equal(r1.code, 1, r1.err);
    assert.match(r1.err, /signature does not match its session .* rater "bob"/);
    assert.equal(r2.code, 1, r2.err);
    assert.match(r2.err, /not part of session .*i-not-in-this-session/);
    assert.equal(r3.code, 1, r3.err);
    assert.match(r3.err, /takes "real_fake" answers, got "quality"/);
    const untouched = await showSession(realFake.id);
    assert.deepEqual(
      untouched.session.raters.map((r) => [r.name, r.answered, r.state]),
      [
        ['ann', 0, 'pending'],
        ['bob', 0, 'pending'],
      ],
      'refused files store nothing',
    );

    // the real file imports: every answer stored and counted
    const imported = await cliJson<{ imported: number; rater: string; state: string }>(['rating', 'import-answers', file]);
    assert.deepEqual([imported.imported, imported.rater, imported.state], [n, 'ann', 'open']);
    const { session, results } = await showSession(realFake.id);
    assert.deepEqual(
      session.raters.map((r) => [r.name, r.answered, r.total, r.state]),
      [
        ['ann', n, n, 'finished'],
        ['bob', 0, n, 'pending'],
      ],
    );
    assert.equal(results.complete, false, 'bob has not rated: the results are provisional');
    assert.equal(results.ratersFinished, 1);
    const ann = results.raters.find((r) => r.name === 'ann')!;
    assert.equal(ann.answered, n);
    assert.ok(ann.accuracy !== null && ann.accuracy >= 0 && ann.accuracy <= 1);
    assert.equal(ann.attentionTotal, n - 6);
    assert.equal(results.realFake!.errorOnFakes.n, 3, 'three scored fakes, all from ann');
    assert.equal(results.realFake!.errorOnReals.n, 3);
    // the same answers, as stored (export reveals the truth too)
    const exported = JSON.parse((await cli(['rating', 'export', realFake.id, '--json'])).out) as { answers: { rater: string; itemId: string; answer: { choice: string }; origin: string }[] };
    const stored = exported.answers.filter((a) => a.rater === 'ann');
    assert.deepEqual(new Map(stored.map((a) => [a.itemId, a.answer.choice])), new Map(answers.answers.map((a) => [a.itemId, a.answer.choice as string])));
    assert.ok(stored.every((a) => a.origin === 'kit'));
    // importing the same file again is refused: the rater has finished
    const again = await cli(['rating', 'import-answers', file]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already finished/);
  });

  it('runs a quality kit with the number keys and a break reminder; its answers import', async () => {
    await openKit(qualityKit);
    await page.keyboard.press('Space');
    await until('the first item', kitState, (s) => s.screen === 'item' && s.ready);
    await shot(page, 'rater-kit-quality-item');
    const scoreFor = (i: number) => String((i % 5) + 1);
    const run = await answer(52, scoreFor);
    assert.deepEqual(run.breaks, [50], 'a break is suggested after 50 items, once');
    const { file, text } = await downloadAnswers('answers-quality.json');
    const answers = JSON.parse(text) as AnswersFile;
    assert.equal(answers.answers.length, 52);
    assert.deepEqual(
      answers.answers.map((a) => a.answer.score),
      run.ids.map((_, i) => (i % 5) + 1),
    );
    const imported = await cliJson<{ imported: number; state: string }>(['rating', 'import-answers', file]);
    assert.deepEqual([imported.imported, imported.state], [52, 'finished']);
    const { results } = await showSession(quality.id);
    assert.equal(results.complete, true);
    const mean = run.ids.reduce((s, _, i) => s + (i % 5) + 1, 0) / 52;
    assert.equal(results.quality!.length, 1);
    assert.ok(Math.abs(results.quality![0]!.mean.value! - mean) < 1e-9, `mean quality ${results.quality![0]!.mean.value} vs the ${mean} pressed`);
    assert.equal(results.quality![0]!.mean.n, 52);
  });

  it('runs a pairwise preference kit with F / J / space; ties and choices import', async () => {
    await openKit(preferenceKit);
    await page.keyboard.press('Space');
    await until('the first pair', kitState, (s) => s.screen === 'item' && s.ready);
    assert.equal(await page.locator('.stage .question').innerText(), 'Which digit looks more natural?');
    assert.deepEqual(await page.locator('.stage img').evaluateAll((els) => els.map((e) => e.getAttribute('alt'))), ['left image', 'right image']);
    await shot(page, 'rater-kit-preference-item');
    const keys = ['f', 'j', 'Space', 'ArrowLeft', 'ArrowRight', 'Space'];
    await answer(6, (i) => keys[i]!);
    const { file, text } = await downloadAnswers('answers-preference.json');
    const choices = (JSON.parse(text) as AnswersFile).answers.map((a) => a.answer.choice);
    assert.deepEqual(choices, ['left', 'right', 'tie', 'left', 'right', 'tie']);
    const imported = await cliJson<{ imported: number; state: string }>(['rating', 'import-answers', file]);
    assert.deepEqual([imported.imported, imported.state], [6, 'finished']);
    const { results } = await showSession(preference.id);
    assert.equal(results.preference!.ties, 2);
    assert.equal(results.preference!.comparisons[0]![1], 6, 'six comparisons between the run and the real set');
    // the two win rates (ties count half) add up to one
    assert.ok(Math.abs(results.preference!.winRate[0]![1]! + results.preference!.winRate[1]![0]! - 1) < 1e-9);
  });

  it('runs a timed kit whose measured exposures are within one frame of the core staircase', async () => {
    await openKit(timedKit);
    await page.keyboard.press('Space');
    await until('the first item', kitState, (s) => s.screen === 'item' && s.ready && s.timed === 'ready');
    await shot(page, 'rater-kit-timed-ready');
    // j, j, f, …: some right, some wrong, so the staircase moves both ways
    const run = await answer(6, (i) => (i % 3 === 2 ? 'f' : 'j'), true);
    assert.equal(run.exposures.length, 6);
    for (const e of run.exposures) assert.ok(Math.abs(e.measured - e.requested) <= FRAME_MS, `requested ${e.requested} ms, measured ${e.measured} ms`);
    assert.ok(new Set(run.exposures.map((e) => e.requested)).size >= 2, `the staircase moved: ${JSON.stringify(run.exposures)}`);
    const { file } = await downloadAnswers('answers-timed.json');
    const imported = await cliJson<{ imported: number; state: string }>(['rating', 'import-answers', file]);
    assert.deepEqual([imported.imported, imported.state], [6, 'finished']);
    // the core replays the staircase from the answers: its requested exposures are the kit's
    const { results } = await showSession(timedSession.id);
    const max = results.timed!.exposureErrorMs.max!;
    assert.ok(max <= FRAME_MS, `max |measured − requested| ${max} ms`);
    console.log(`timed kit exposures (requested → measured ms): ${run.exposures.map((e) => `${e.requested}→${e.measured.toFixed(1)}${e.repeats ? ` (${e.repeats}×)` : ''}`).join(', ')}; core max error ${max.toFixed(1)} ms`);
  });

  it('says what is wrong when the manifest is one this page cannot run', async () => {
    const manifestJs = await fsp.readFile(path.join(timedKit, 'manifest.js'), 'utf8');
    const manifest = JSON.parse(manifestJs.slice(manifestJs.indexOf('{'), manifestJs.lastIndexOf('}') + 1)) as Record<string, unknown> & { staircase: Record<string, number> };
    const broken = async (name: string, over: (m: typeof manifest) => void): Promise<string> => {
      const dir = path.join(temp.make('gan-e2e-kit-broken-'), name);
      await fsp.cp(timedKit, dir, { recursive: true });
      const copy = structuredClone(manifest);
      over(copy);
      await fsp.writeFile(path.join(dir, 'manifest.js'), `window.RATER_KIT = ${JSON.stringify(copy)};\n`);
      await page.goto(pathToFileURL(path.join(dir, 'index.html')).href);
      await until(`the error screen of ${name}`, kitState, (s) => s.screen === 'error');
      return page.locator('main [role="alert"]').innerText();
    };
    assert.match(await broken('newer', (m) => (m.version = 2)), /version 2, type "timed_real_fake"\) needs a newer rater page/);
    assert.match(await broken('unknown-type', (m) => (m.type = 'ranking')), /type "ranking"\) needs a newer rater page/);
    // the staircase rules are the core's (electron/common/rating-staircase.ts), checks included
    assert.match(await broken('staircase', (m) => (m.staircase.down = 1.5)), /staircase is invalid \(staircase factor 1.5 must lie strictly between 0 and 1\)/);
    assert.match(await broken('not-a-kit', (m) => (m.format = 'something-else')), /not a GAN Studio rater kit/);
    await shot(page, 'rater-kit-error');
  });

  it('saw no page error, console error, CSP violation or failed request', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(failedRequests, []);
  });
});
