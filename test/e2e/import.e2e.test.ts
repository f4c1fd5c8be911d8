// End to end: import a generated folder through the Datasets page of the real studio (browser
// mode), watch the progress reach done, see the new dataset with its class bars, report and
// rejected files, see a hopeless import fail with its reasons, then delete the dataset; upload a
// zip through the file input and by a (synthetic) drag-and-drop, and see those datasets appear.
// Needs `npm run build:renderer` first (npm run test:e2e does it) and /usr/bin/chromium.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { makeZip, png, writeFiles } from '../unit/import-fixtures.ts';
import { CHROMIUM, ROOT, StudioServer, TempDirs, launchBrowser, loadedWidth, shot, testid, until } from './helpers.ts';

const NAME = 'e2e pets';
const PER_CLASS = 6;
/** the good images: PER_CLASS per class plus the copy */
const GOOD = PER_CLASS * 2 + 1;

const server = new StudioServer();
const temp = new TempDirs();
let context: BrowserContext | null = null;
let page: Page;
let launchUrl = '';
let cspViolations: string[] = [];
let pageErrors: string[] = [];
let source = '';
let hopeless = '';
let home = '';
let zip: Buffer = Buffer.alloc(0);

/** Two class folders of small PNGs in two sizes (one an exact copy), one corrupt file and one empty file. */
async function makeSource(root: string): Promise<void> {
  const files: Record<string, Buffer> = {};
  for (const [c, cls] of ['cats', 'dogs'].entries()) {
    for (let i = 0; i < PER_CLASS; i++) {
      const [w, h] = i % 2 === 0 ? [20, 20] : [48, 36];
      files[`${cls}/${cls}-${i}.png`] = await png(w, h, 3, (x, y, ch) => (x * (7 + i) + y * (3 + c * 5) + ch * 60 + i * 31) & 255);
    }
  }
  files['dogs/dogs-0-copy.png'] = files['dogs/dogs-0.png']!;
  files['cats/broken.png'] = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png')]);
  files['dogs/empty.png'] = Buffer.alloc(0);
  writeFiles(root, files);
}

const importState = () => page.getAttribute(testid('import-status'), 'data-state').catch(() => null);

async function startImport(dir: string, name: string): Promise<void> {
  await page.fill(testid('import-path'), dir);
  await page.fill(testid('import-name'), name);
  await page.click(testid('import-start'));
}

describe('Dataset import in the browser', { timeout: 120_000 }, () => {
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/renderer/index.html')), 'run `npm run build:renderer` first');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    source = temp.make('gan-e2e-import-src-');
    await makeSource(source);
    hopeless = temp.make('gan-e2e-import-bad-');
    writeFiles(hopeless, { 'a.png': Buffer.from('garbage'), 'b.jpg': Buffer.alloc(0) });
    const entries = [];
    for (const [c, cls] of ['circles', 'squares'].entries()) {
      for (let i = 0; i < 5; i++) entries.push({ name: `shapes/${cls}/${i}.png`, data: await png(16, 16, 1, (x, y) => ((c ? x : y) * 16 + i * 9) & 255), method: 'deflate' as const });
    }
    zip = makeZip(entries);
    home = temp.make('gan-e2e-import-home-');
    launchUrl = await server.start(home);
    ({ context, page, cspViolations, pageErrors } = await launchBrowser(temp.make('gan-e2e-import-chromium-')));
  });

  after(async () => {
    await context?.close().catch(() => {});
    await server.stop();
    temp.removeAll();
  });

  it('refuses a relative path before sending it', async () => {
    await page.goto(launchUrl);
    await page.locator(testid('dataset-row')).first().waitFor();
    await page.click(testid('import-toggle'));
    await page.fill(testid('import-path'), 'data/pets');
    await page.click(testid('import-start'));
    assert.match((await page.locator(testid('import-path-error')).textContent()) ?? '', /absolute/);
    assert.equal(await page.locator(testid('import-status')).count(), 0);
  });

  it('imports a folder: progress reaches done and the new dataset is selected with its report', async () => {
    await startImport(source, NAME);
    const seen = new Set<string>();
    await until(
      'the import to finish',
      async () => {
        const s = await importState();
        if (s) seen.add(s);
        return s;
      },
      (s) => s !== null && s !== 'running',
      45_000,
    );
    assert.equal(await importState(), 'done', `states seen: ${[...seen].join(', ')}`);
    assert.equal(await page.getAttribute(testid('import-status'), 'data-phase'), 'finished');

    const detail = page.locator(testid('dataset-detail'));
    await detail.locator('h2', { hasText: NAME }).waitFor();
    // the dataset's count is its training split: 12 images less the 10 % held out
    const count = Number(await page.textContent(testid('dataset-count')));
    assert.ok(count >= PER_CLASS && count < GOOD, `count ${count}`);
    assert.match(page.url(), /datasets/);

    const bars = page.locator(testid('class-bar'));
    assert.equal(await bars.count(), 2);
    const byClass = await bars.evaluateAll((els) => els.map((e) => [e.getAttribute('data-class'), Number(e.getAttribute('data-count'))] as const));
    assert.deepEqual(
      byClass.map(([c]) => c),
      ['cats', 'dogs'],
    );
    for (const [c, n] of byClass) assert.ok(n > 0 && n <= PER_CLASS + 1, `${c}: ${n}`);

    await page.locator(testid('dataset-report')).waitFor();
    const rejected = page.locator(`${testid('dataset-report')} ${testid('rejected-file')}`);
    assert.equal(await rejected.count(), 2);
    const rows = await rejected.evaluateAll((els) => els.map((e) => ({ path: e.getAttribute('data-path') ?? '', reason: e.querySelector('.reason')?.textContent?.trim() ?? '' })));
    assert.deepEqual(rows.map((r) => path.basename(r.path)).sort(), ['broken.png', 'empty.png']);
    for (const r of rows) assert.ok(r.reason.length > 3, `a reason for ${r.path}`);

    // statistics, held-out split and the source-size histogram
    assert.equal(await page.locator(`${testid('channel-stats')} tbody tr`).count(), 3);
    const train = Number.parseInt((await page.textContent(testid('report-train'))) ?? '', 10);
    const holdout = Number.parseInt((await page.textContent(testid('report-holdout'))) ?? '', 10);
    assert.equal(train, count);
    assert.equal(train + holdout, GOOD);
    const bins = await page.locator(testid('size-histogram-bin')).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    assert.equal(
      bins.reduce((a, b) => a + b, 0),
      GOOD,
    );
    // the copy shows as an exact duplicate, with the pairs image
    assert.match((await page.textContent(testid('exact-duplicates'))) ?? '', /^1 groups?, 1 extra/);
    await until('the duplicate pairs image to load', () => loadedWidth(page, testid('duplicates-preview')), (w) => w > 0);
    await page.locator(testid('dataset-preview')).waitFor();
    await until('the preview to load', () => loadedWidth(page, testid('dataset-preview')), (w) => w > 0);
    await shot(page, 'import-done', { tall: true });
  });

  it('shows a failed import with every rejected file and its reason', async () => {
    await page.click(testid('import-dismiss'));
    await startImport(hopeless, 'hopeless');
    await until('the import to end', importState, (s) => s !== null && s !== 'running', 30_000);
    assert.equal(await importState(), 'failed');
    assert.ok(((await page.textContent(testid('import-error'))) ?? '').length > 0);
    const rejected = page.locator(`${testid('import-rejected')} ${testid('rejected-file')}`);
    assert.equal(await rejected.count(), 2);
    await shot(page, 'import-failed');
    // nothing was created
    assert.equal(await page.locator(testid('dataset-row'), { hasText: 'hopeless' }).count(), 0);
  });

  it('deletes the imported dataset after a confirmation; built-ins cannot be deleted', async () => {
    const row = page.locator(testid('dataset-row'), { hasText: NAME });
    await row.locator('button').click();
    await page.locator(testid('dataset-detail')).locator('h2', { hasText: NAME }).waitFor();
    await page.click(testid('delete-dataset'));
    await page.click(testid('delete-confirm-yes'));
    await row.waitFor({ state: 'detached' });
    await page.locator(testid('dataset-detail')).waitFor();
    assert.equal(await page.locator(testid('delete-dataset')).isDisabled(), true, 'the selected built-in offers no delete');
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  it('uploads a zip chosen in the file input (browser mode): the import follows and the dataset appears', async () => {
    await page.goto(launchUrl);
    await page.locator(testid('dataset-row')).first().waitFor();
    if ((await page.locator(testid('import-panel')).count()) === 0) await page.click(testid('import-toggle'));
    await page.locator(testid('import-upload')).waitFor();
    assert.match((await page.textContent(testid('import-panel'))) ?? '', /upload a zip/i);
    assert.doesNotMatch((await page.textContent(testid('import-panel'))) ?? '', /not supported/);
    await page.fill(testid('import-name'), 'uploaded shapes');
    await page.fill(testid('import-size'), '16');
    await page.locator(testid('import-upload-input')).setInputFiles({ name: 'shapes.zip', mimeType: 'application/zip', buffer: zip });
    await until('the uploaded import to finish', importState, (s) => s !== null && s !== 'running', 45_000);
    assert.equal(await importState(), 'done');
    await page.locator(testid('dataset-row'), { hasText: 'uploaded shapes' }).waitFor();
    await page.locator(testid('dataset-detail')).locator('h2', { hasText: 'uploaded shapes' }).waitFor();
    const byClass = await page.locator(testid('class-bar')).evaluateAll((els) => els.map((e) => e.getAttribute('data-class')));
    assert.deepEqual(byClass, ['circles', 'squares']);
    await shot(page, 'import-upload-done', { tall: true });
    await until('the staged zip to be removed', async () => readdirSync(path.join(home, 'uploads')), (names) => names.length === 0, 10_000);
  });

  it('uploads a zip dropped on the window (synthetic DataTransfer) and refuses a dropped non-zip', async () => {
    await page.click(testid('import-dismiss'));
    await page.fill(testid('import-name'), 'dropped shapes');
    const drop = (name: string, base64: string) =>
      page.evaluate(
        ({ name, base64 }) => {
          const w = globalThis as unknown as { atob(s: string): string; DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: unknown[], name: string, o: { type: string }) => unknown; DragEvent: new (type: string, o: object) => unknown; document: { querySelector(s: string): { dispatchEvent(e: unknown): boolean } } };
          const bytes = Uint8Array.from(w.atob(base64), (ch) => ch.charCodeAt(0));
          const dt = new w.DataTransfer();
          dt.items.add(new w.File([bytes], name, { type: name.endsWith('.zip') ? 'application/zip' : 'text/plain' }));
          const target = w.document.querySelector('[data-testid="import-dropzone"]')!;
          target.dispatchEvent(new w.DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
          return target.dispatchEvent(new w.DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
        },
        { name, base64 },
      );
    assert.equal(await drop('notes.txt', Buffer.from('hello').toString('base64')), false, 'the drop is handled (default prevented)');
    assert.match((await page.textContent(testid('import-error'))) ?? '', /not a zip archive/);
    await drop('dropped.zip', zip.toString('base64'));
    await until('the dropped import to finish', importState, (s) => s !== null && s !== 'running', 45_000);
    assert.equal(await importState(), 'done');
    await page.locator(testid('dataset-row'), { hasText: 'dropped shapes' }).waitFor();
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });
});
