// The rater kit's page script is built from the studio's own TypeScript (issue 8): the bundle
// (scripts/build-kit.mjs) is one classic script that carries the shared modules and nothing heavy;
// the truth encoding round-trips between the exporter and the page; the answer keys are one table
// for the kit and the rating screen; and an export without a built script fails, saying what to run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { RatingSession } from '../../electron/common/api-rating.ts';
import type { ApiError } from '../../electron/common/errors.ts';
import { obscureTruth, revealTruth } from '../../electron/common/rater-kit.ts';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';
import { exportRaterKit } from '../../electron/core/rating/kit.ts';
import { keyName, memorisationKey, preferenceKey, qualityKey, realFakeKey } from '../../renderer/src/lib/rating/answer-keys.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gan-kit-build-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the rater kit page script bundle', () => {
  it('is one classic script (IIFE) with the shared modules in it and no module syntax, loader or zod', async () => {
    const outdir = path.join(tmp, 'built');
    const r = spawnSync(process.execPath, ['scripts/build-kit.mjs', '--outdir', outdir], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const text = await fsp.readFile(path.join(outdir, 'kit.js'), 'utf8');
    assert.match(text, /^\/\/ GAN Studio rater kit page script/);
    assert.match(text, /^\(\(\) => \{$/m, 'an immediately invoked function');
    assert.doesNotMatch(text, /^\s*(import|export)\s/m);
    assert.doesNotMatch(text, /\b(require|fetch|importScripts)\s*\(/);
    // the shared modules, by their source paths (esbuild names each one) and their functions
    for (const m of ['electron/common/rating-staircase.ts', 'electron/common/rater-kit.ts', 'renderer/src/lib/rating/exposure.ts', 'renderer/src/lib/rating/answer-keys.ts']) assert.ok(text.includes(`// ${m}`), `bundles ${m}`);
    for (const f of ['function staircaseReplay(', 'function presentFor(', 'function revealTruth(', 'function realFakeKey(']) assert.ok(text.includes(f), f);
    assert.ok(!/zod|svelte/i.test(text), 'neither zod nor svelte in the kit');
    assert.ok(text.length < 60_000, `${text.length} characters`);
    // it parses as a classic script (new Function compiles sloppy-mode script code, not a module)
    assert.doesNotThrow(() => new Function(text));
  });
});

describe('the timed items truth bit', () => {
  it('round-trips between the exporter and the page, and the bit alone does not give the truth away', () => {
    const bits = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const id = `item-${i}`;
      for (const truth of ['real', 'fake'] as const) {
        const t = obscureTruth(id, 'a1b2c3d4', truth);
        assert.ok(t === 0 || t === 1);
        assert.equal(revealTruth(id, 'a1b2c3d4', t), truth);
        if (truth === 'real') bits.add(t);
      }
    }
    assert.deepEqual([...bits].sort(), [0, 1], 'real items get both bits');
  });
});

describe('the answer keys shared by the rating screen and the kit', () => {
  it('map the same keys to the same answers', () => {
    assert.deepEqual(['F', 'f', 'ArrowLeft', ' ', 'Enter'].map(keyName), ['f', 'f', 'ArrowLeft', ' ', 'Enter']);
    assert.deepEqual(['f', 'ArrowLeft', 'j', 'ArrowRight', ' ', 'k'].map(realFakeKey), ['fake', 'fake', 'real', 'real', null, null]);
    assert.deepEqual(['f', 'ArrowLeft', 'j', 'ArrowRight', ' ', 'Enter'].map(preferenceKey), ['left', 'left', 'right', 'right', 'tie', null]);
    assert.deepEqual(['0', '1', '3', '5', '6', '12'].map(qualityKey), [null, 1, 3, 5, null, null]);
    assert.deepEqual(['y', 'j', 'n', 'f', ' '].map(memorisationKey), [true, true, false, false, null]);
  });
});

describe('exporting a kit', () => {
  it('without a built page script fails saying to run the build, and writes nothing', async () => {
    const target = path.join(tmp, 'kit-out');
    const session = { id: 'rs-1', type: 'real_fake', question: 'Real or fake?', itemsHash: 'a'.repeat(64), breakEvery: 50, staircase: null } as unknown as RatingSession;
    await assert.rejects(
      exportRaterKit({ session, rater: 'ann', order: ['i1'], items: [{ itemId: 'i1', ord: 0, attention: false, truth: { kind: 'real_fake', truth: 'real', sourceId: 's', block: null }, files: ['a.png'] }], imageDir: tmp, target, script: path.join(tmp, 'no-such', 'kit.js') }),
      (err: ApiError) => {
        assert.equal(err.code, 'internal');
        assert.match(err.message, /rater kit's page script .*no-such.kit\.js has not been built: run npm run build:renderer/);
        return true;
      },
    );
    assert.deepEqual((await fsp.readdir(tmp)).filter((f) => f.startsWith('kit-out')), [], 'no kit folder and no temp folder');
  });
});
