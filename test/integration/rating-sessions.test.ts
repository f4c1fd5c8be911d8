// Rating sessions end to end on a real studio core in a temp home: two tiny real runs (forked
// trainers) with real checkpoints, the built-in MNIST as the real set, SQLite on disk. Refusals,
// blinding, the rater loop, resume after a restart, results, CSV/JSON export, the rater kit and its
// answers import (good and tampered), and the run page view.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { RatingAnswerValue } from '../../electron/common/api-rating.ts';
import type { ApiError } from '../../electron/common/errors.ts';
import { spawnSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';
import { StudioHarness, tinyConfigInput } from './fixtures/trainer-harness.ts';
import { createStudioCore, type StudioCore } from '../../electron/core/services/studio.ts';
import { createInMemoryClient } from '../../electron/core/transport/in-memory.ts';

const harnesses: StudioHarness[] = [];
const cores: StudioCore[] = [];
after(async () => {
  for (const core of cores) await core.close();
  for (const h of harnesses) {
    await h.close();
    h.dispose();
  }
});

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    const e = err as ApiError;
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

type Truth = { kind: string; truth?: string; left?: string; right?: string; better?: string | null; sourceId?: string };

test('rating sessions on real runs: refusals, blinded stream, resume, results, export, rater kit', async (t) => {
  const h = await StudioHarness.create('gan-rating-', {});
  harnesses.push(h);
  const runA = await h.start(tinyConfigInput('wasm', 3, { steps: 12 }));
  const runB = await h.start(tinyConfigInput('wasm', 4, { steps: 12 }));
  for (const r of [runA, runB]) {
    const end = await h.waitForStatus(r.id, ['completed', 'failed', 'interrupted'], 120_000);
    assert.equal(end.value.status, 'completed', end.value.statusReason ?? '');
  }
  const mnist = (await h.client.call('datasets.list', {})).find((d) => d.layout === 'images')!;
  const c = h.client;

  // refusals with clear messages
  await rejects(c.call('ratings.create', { type: 'real_fake', sources: [{ kind: 'checkpoint', runId: runA.id }], raters: ['ann'], items: 10 }), 'invalid_input', /needs real images/);
  await rejects(c.call('ratings.create', { type: 'preference', sources: [{ kind: 'checkpoint', runId: runA.id }], raters: ['ann'], items: 10 }), 'invalid_input', /two or more sources; it has 1/);
  await rejects(c.call('ratings.create', { type: 'real_fake', sources: [{ kind: 'checkpoint', runId: runA.id, step: 999 }, { kind: 'real', datasetId: mnist.id }], raters: ['ann'] }), 'not_found', /no checkpoint at step 999/);
  await rejects(c.call('ratings.create', { type: 'real_fake', sources: [{ kind: 'checkpoint', runId: runA.id }, { kind: 'real', datasetId: mnist.id }], raters: ['ann', 'ann'] }), 'invalid_input', /listed twice/);

  // a real-or-fake session
  const progress: number[] = [];
  const unsubscribe = c.subscribe((e) => {
    if (e.type === 'rating.progress' && e.phase === 'sampling') progress.push(e.done);
  });
  const started = Date.now();
  const session = await c.call('ratings.create', { type: 'real_fake', sources: [{ kind: 'checkpoint', runId: runA.id }, { kind: 'real', datasetId: mnist.id }], raters: ['ann', 'bob'], items: 10, attentionShare: 0.2, seed: 7 });
  unsubscribe();
  t.diagnostic(`created a 10 + 2 item session in ${Date.now() - started} ms; sampling progress ${JSON.stringify(progress)}`);
  assert.equal(session.state, 'open');
  assert.equal(session.sources[0]!.step, 12);
  assert.equal(session.raters.length, 2);
  assert.deepEqual(session.raters.map((r) => [r.name, r.state, r.answered, r.total]), [
    ['ann', 'pending', 0, 12],
    ['bob', 'pending', 0, 12],
  ]);
  assert.ok(progress.at(-1) === 5, 'sampling progress reaches the 5 generated images');
  assert.match(session.itemsHash, /^[0-9a-f]{64}$/);

  // the truth, from the JSON export (sources revealed there, never in the rater's items)
  const exported = JSON.parse((await c.call('ratings.export', { sessionId: session.id, format: 'json' })).text) as { items: { itemId: string; attention: boolean; truth: Truth }[] };
  const truth = new Map(exported.items.map((i) => [i.itemId, i]));
  assert.equal(exported.items.filter((i) => !i.attention && i.truth.truth === 'real').length, 5, 'balanced: 5 real');
  assert.equal(exported.items.filter((i) => !i.attention && i.truth.truth === 'fake').length, 5, 'balanced: 5 fake');
  assert.equal(exported.items.filter((i) => i.attention).length, 2);

  const first = await c.call('ratings.next', { sessionId: session.id, rater: 'ann' });
  const text = JSON.stringify(first.item);
  assert.ok(!text.includes(runA.id) && !text.includes(mnist.id) && !text.includes('"s0"') && !text.includes('"s1"'), 'an item names no source');
  assert.match(first.item!.images[0]!.dataUrl, /^data:image\/png;base64,/);
  assert.equal(first.item!.images[0]!.width, 28);
  const bobFirst = await c.call('ratings.next', { sessionId: session.id, rater: 'bob' });
  const annOrder: string[] = [];

  // ann answers right, 6 items, then the core restarts
  const right = (itemId: string): RatingAnswerValue => ({ kind: 'real_fake', choice: truth.get(itemId)!.truth.truth as 'real' | 'fake' });
  for (let i = 0; i < 6; i++) {
    const { item } = await c.call('ratings.next', { sessionId: session.id, rater: 'ann' });
    annOrder.push(item!.itemId);
    assert.equal(item!.position, i);
    await c.call('ratings.answer', { sessionId: session.id, rater: 'ann', itemId: item!.itemId, answer: right(item!.itemId), responseMs: 800 });
  }
  await rejects(c.call('ratings.answer', { sessionId: session.id, rater: 'ann', itemId: annOrder[0]!, answer: right(annOrder[0]!), responseMs: 1 }), 'conflict', /already answered/);
  await rejects(c.call('ratings.answer', { sessionId: session.id, rater: 'ann', itemId: 'i-nope', answer: { kind: 'real_fake', choice: 'real' }, responseMs: 1 }), 'invalid_input', /not part of session/);
  await rejects(c.call('ratings.answer', { sessionId: session.id, rater: 'ann', itemId: annOrder[0]!, answer: { kind: 'quality', score: 3 }, responseMs: 1 }), 'invalid_input', /takes "real_fake" answers/);
  await rejects(c.call('ratings.finishRater', { sessionId: session.id, rater: 'ann' }), 'conflict', /answered 6 of 12/);
  // undo takes back the last answer: the same item comes again and can be answered anew
  const undone = await c.call('ratings.undo', { sessionId: session.id, rater: 'ann' });
  assert.equal(undone.itemId, annOrder[5]);
  assert.equal(undone.rater.answered, 5);
  const again = await c.call('ratings.next', { sessionId: session.id, rater: 'ann' });
  assert.equal(again.item!.itemId, annOrder[5]);
  await c.call('ratings.answer', { sessionId: session.id, rater: 'ann', itemId: annOrder[5]!, answer: right(annOrder[5]!), responseMs: 800 });
  await rejects(c.call('ratings.undo', { sessionId: session.id, rater: 'zed' }), 'not_found', /zed/);
  const partial = await c.call('ratings.results', { sessionId: session.id, bootstrap: 200 });
  assert.equal(partial.complete, false, 'a half-finished session is not complete');
  assert.equal(partial.ratersFinished, 0);
  assert.equal(partial.realFake!.errorOnFakes.n, 0, 'unfinished raters do not count');
  assert.deepEqual(await c.call('ratings.forRun', { runId: runA.id }), [], 'the run page lists finished sessions only');

  // restart: a fresh core on the same home resumes where ann stopped
  const home = h.home;
  await h.close();
  const core2 = await createStudioCore({ home, mode: 'memory' });
  cores.push(core2);
  const cc = createInMemoryClient(core2.api, core2.events);
  const resumed = await cc.call('ratings.next', { sessionId: session.id, rater: 'ann' });
  assert.equal(resumed.item!.position, 6, 'resumes at the first unanswered item');
  assert.equal(resumed.rater.answered, 6);
  assert.equal(resumed.rater.state, 'in_progress');
  for (;;) {
    const { item } = await cc.call('ratings.next', { sessionId: session.id, rater: 'ann' });
    if (!item) break;
    await cc.call('ratings.answer', { sessionId: session.id, rater: 'ann', itemId: item.itemId, answer: right(item.itemId), responseMs: 700 });
  }
  await cc.call('ratings.finishRater', { sessionId: session.id, rater: 'ann' });
  assert.equal((await cc.call('ratings.get', { sessionId: session.id })).state, 'open', 'open while bob has not finished');
  // bob calls everything real, attention checks included
  assert.equal((await cc.call('ratings.next', { sessionId: session.id, rater: 'bob' })).item!.itemId, bobFirst.item!.itemId);
  for (;;) {
    const { item } = await cc.call('ratings.next', { sessionId: session.id, rater: 'bob' });
    if (!item) break;
    await cc.call('ratings.answer', { sessionId: session.id, rater: 'bob', itemId: item.itemId, answer: { kind: 'real_fake', choice: 'real' }, responseMs: 300 });
  }
  const done = await cc.call('ratings.finishRater', { sessionId: session.id, rater: 'bob' });
  assert.equal(done.state, 'finished');
  const res = await cc.call('ratings.results', { sessionId: session.id, bootstrap: 300 });
  assert.equal(res.complete, true);
  assert.equal(res.realFake!.errorOnFakes.value, 0.5, 'ann 0 of 5 fakes wrong, bob 5 of 5');
  assert.equal(res.realFake!.errorOnReals.value, 0);
  assert.equal(res.realFake!.errorOverall.value, 0.25);
  assert.ok(res.realFake!.errorOnFakes.low! <= 0.5 && res.realFake!.errorOnFakes.high! >= 0.5);
  const ann = res.raters.find((r) => r.name === 'ann')!;
  const bob = res.raters.find((r) => r.name === 'bob')!;
  assert.deepEqual([ann.accuracy, ann.attentionPassed, ann.attentionTotal, ann.reliable], [1, 2, 2, true]);
  assert.deepEqual([bob.accuracy, bob.attentionPassed, bob.attentionTotal, bob.reliable], [0.5, 0, 2, false]);
  assert.equal(res.agreement.items, 10);
  assert.equal(res.agreement.raters, 2);
  assert.ok(res.agreement.fleissKappa !== null && res.agreement.fleissKappa < 0.2, `κ ${res.agreement.fleissKappa}: the two raters disagree on every fake`);
  const strict = await cc.call('ratings.results', { sessionId: session.id, excludeUnreliable: true, bootstrap: 200 });
  assert.deepEqual(strict.excludedRaters, ['bob']);
  assert.equal(strict.realFake!.errorOnFakes.value, 0);

  const csv = (await cc.call('ratings.export', { sessionId: session.id, format: 'csv' })).text.trim().split('\n');
  assert.equal(csv.length, 1 + 24);
  assert.match(csv[0]!, /^session_id,type,rater,item_id,position,attention,sources,truth,answer/);
  const forRun = await cc.call('ratings.forRun', { runId: runA.id });
  assert.equal(forRun.length, 1);
  assert.equal(forRun[0]!.scores[0]!.estimate.value, 0.5);

  // the rater kit: a third rater answers offline; the file comes back
  await cc.call('ratings.addRater', { sessionId: session.id, rater: 'cat' });
  assert.equal((await cc.call('ratings.get', { sessionId: session.id })).state, 'open', 'a new rater reopens the session');
  const kit = await cc.call('ratings.exportKit', { sessionId: session.id, rater: 'cat' });
  const listing = await fsp.readdir(kit.path);
  for (const f of ['index.html', 'kit.js', 'kit.css', 'manifest.js', 'manifest.json', 'img']) assert.ok(listing.includes(f), `kit holds ${f}`);
  const manifest = JSON.parse(await fsp.readFile(path.join(kit.path, 'manifest.json'), 'utf8')) as { itemsHash: string; signature: string; items: { itemId: string; files: string[] }[] };
  assert.equal(manifest.itemsHash, session.itemsHash);
  assert.equal(manifest.items.length, 12);
  for (const it of manifest.items) for (const f of it.files) await fsp.access(path.join(kit.path, 'img', f));
  assert.ok(!(await fsp.readFile(path.join(kit.path, 'manifest.json'), 'utf8')).includes(runA.id), 'the kit names no source');
  const answersFile = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      format: 'gan-studio-rater-answers',
      version: 1,
      sessionId: session.id,
      type: 'real_fake',
      rater: 'cat',
      itemsHash: manifest.itemsHash,
      signature: manifest.signature,
      finished: true,
      answers: manifest.items.map((it) => ({ itemId: it.itemId, answer: { kind: 'real_fake', choice: 'fake' }, responseMs: 500, answeredAt: Date.now() })),
      ...over,
    });
  await rejects(cc.call('ratings.importAnswers', { text: answersFile({ itemsHash: 'a'.repeat(64) }) }), 'invalid_input', /signature does not match/);
  await rejects(cc.call('ratings.importAnswers', { text: answersFile({ answers: [{ itemId: 'i-unknown', answer: { kind: 'real_fake', choice: 'fake' }, responseMs: 1 }] }) }), 'invalid_input', /not part of session/);
  await rejects(cc.call('ratings.importAnswers', { text: answersFile({ answers: [{ itemId: manifest.items[0]!.itemId, answer: { kind: 'quality', score: 2 }, responseMs: 1 }] }) }), 'invalid_input', /takes "real_fake" answers/);
  await rejects(cc.call('ratings.importAnswers', { text: '{"format":"nope"}' }), 'invalid_input', /malformed/);
  assert.equal((await cc.call('ratings.get', { sessionId: session.id })).raters.find((r) => r.name === 'cat')!.answered, 0, 'a refused file stores nothing');
  const imported = await cc.call('ratings.importAnswers', { text: answersFile() });
  assert.equal(imported.imported, 12);
  assert.equal(imported.session.state, 'finished');
  const withCat = await cc.call('ratings.results', { sessionId: session.id, bootstrap: 200 });
  assert.equal(withCat.ratersFinished, 3);
  assert.equal(withCat.raters.find((r) => r.name === 'cat')!.accuracy, 0.5);

  // a pairwise preference session between the two runs and the real set
  const pref = await cc.call('ratings.create', {
    type: 'preference',
    sources: [{ kind: 'checkpoint', runId: runA.id }, { kind: 'checkpoint', runId: runB.id }, { kind: 'real', datasetId: mnist.id }],
    raters: ['ann'],
    items: 12,
    attentionShare: 0,
    seed: 3,
  });
  const prefItems = JSON.parse((await cc.call('ratings.export', { sessionId: pref.id, format: 'json' })).text) as { items: { itemId: string; truth: Truth }[] };
  const pt = new Map(prefItems.items.map((i) => [i.itemId, i.truth]));
  // ann always prefers the real image, then run A over run B
  const rank = (sid: string) => ({ s2: 0, s0: 1, s1: 2 })[sid]!;
  for (;;) {
    const { item } = await cc.call('ratings.next', { sessionId: pref.id, rater: 'ann' });
    if (!item) break;
    assert.equal(item.images.length, 2);
    const tr = pt.get(item.itemId)!;
    await cc.call('ratings.answer', { sessionId: pref.id, rater: 'ann', itemId: item.itemId, answer: { kind: 'preference', choice: rank(tr.left!) < rank(tr.right!) ? 'left' : 'right' }, responseMs: 400 });
  }
  await cc.call('ratings.finishRater', { sessionId: pref.id, rater: 'ann' });
  const pr = await cc.call('ratings.results', { sessionId: pref.id, bootstrap: 200 });
  assert.deepEqual(
    pr.preference!.ranking.map((r) => r.sourceId),
    ['s2', 's0', 's1'],
  );
  assert.equal(pr.preference!.winRate[2]![0], 1);
  assert.equal(pr.preference!.comparisons[0]![1], 4, 'balanced: each pair met 4 times');

  await cc.call('ratings.delete', { sessionId: pref.id });
  await rejects(cc.call('ratings.get', { sessionId: pref.id }), 'not_found', /not found/);
  await assert.rejects(fsp.access(path.join(home, 'ratings', pref.id)));

  // the CLI on the same home (core closed first: one writer)
  await core2.close();
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'gan-studio.js'), 'rating', ...args, '--home', home], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GAN_STUDIO_HOME: '' } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const list = cli(['list', '--json']);
  assert.equal(list.code, 0, list.err);
  assert.deepEqual((JSON.parse(list.out) as { id: string }[]).map((x) => x.id), [session.id]);
  const show = cli(['show', session.id]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /error on fakes \(fakes judged real; 50 % = indistinguishable\): 33\.3 % \[/, 'ann 0, bob 5, cat 0 of 5 fakes judged real');
  assert.match(show.out, /bob +finished +12 answers +accuracy 50\.0 % +attention 0\/2 +UNRELIABLE/);
  const csvOut = cli(['export', session.id, '--csv']);
  assert.equal(csvOut.code, 0, csvOut.err);
  assert.equal(csvOut.out.trim().split('\n').length, 1 + 36);
  const jsonOut = cli(['export', session.id, '--json']);
  assert.equal((JSON.parse(jsonOut.out) as { results: { ratersFinished: number } }).results.ratersFinished, 3);
  assert.equal(cli(['export', session.id]).code, 2, 'export needs --csv or --json');
  const badSource = cli(['create', '--type', 'preference', '--source', 'nonsense', '--rater', 'x']);
  assert.equal(badSource.code, 2);
  assert.match(badSource.err, /--source must be run:RUN_ID/);
  const oneSource = cli(['create', '--type', 'preference', '--source', `run:${runA.id}`, '--rater', 'x']);
  assert.equal(oneSource.code, 1);
  assert.match(oneSource.err, /compares two or more sources; it has 1/);
  const noReal = cli(['create', '--type', 'real_fake', '--source', `run:${runA.id}`, '--rater', 'x']);
  assert.match(noReal.err, /needs real images/);
  assert.equal(cli(['show', 'rs-missing']).code, 1);
});
