// The timed real-or-fake exposure (renderer/src/lib/rating/exposure.ts) on a simulated frame
// clock: the mask goes up on the frame boundary nearest the request, the measured time is what the
// frames really showed (also when frames are dropped), and aborting puts the mask up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { missedByFrames, presentFor } from '../../renderer/src/lib/rating/exposure.ts';

/** A frame clock: callbacks queued for the next frame run with its timestamp. */
function fakeFrames(intervals: (frame: number) => number) {
  let queue: { id: number; cb: (t: number) => void }[] = [];
  let t = 1000;
  let frame = 0;
  let nextId = 1;
  const raf = (cb: (t: number) => void) => {
    const id = nextId++;
    queue.push({ id, cb });
    return id;
  };
  const cancel = (id: number) => void (queue = queue.filter((q) => q.id !== id));
  /** runs frames until the queue is empty */
  const run = () => {
    while (queue.length) {
      t += intervals(frame++);
      const now = queue;
      queue = [];
      for (const q of now) q.cb(t);
    }
  };
  /** runs n frames */
  const step = (n: number) => {
    for (let i = 0; i < n && queue.length; i++) {
      t += intervals(frame++);
      const now = queue;
      queue = [];
      for (const q of now) q.cb(t);
    }
  };
  return { raf, cancel, run, step, now: () => t };
}

describe('presentFor', () => {
  for (const requested of [100, 150, 250, 1000]) {
    it(`shows ${requested} ms as the nearest whole number of 60 Hz frames`, async () => {
      const clock = fakeFrames(() => 1000 / 60);
      const changes: { at: number; visible: boolean }[] = [];
      const p = presentFor(requested, (v) => changes.push({ at: clock.now(), visible: v }), undefined, clock.raf, clock.cancel);
      clock.run();
      const e = await p;
      assert.deepEqual(
        changes.map((c) => c.visible),
        [true, false],
      );
      // what was on screen: from the frame that showed it to the frame that masked it
      const shownFor = changes[1].at - changes[0].at;
      assert.ok(Math.abs(e.measuredMs - shownFor) < 1e-6, `${e.measuredMs} vs ${shownFor}`);
      assert.ok(Math.abs(e.measuredMs - requested) <= 1000 / 120 + 1e-6, `requested ${requested}, measured ${e.measuredMs}`);
      assert.ok(Math.abs(e.frameMs - 1000 / 60) < 1e-6);
      assert.equal(e.frames, Math.round(e.measuredMs / (1000 / 60)));
      assert.equal(missedByFrames(e), false);
    });
  }

  it('reports the longer exposure when frames are dropped, not the requested one', async () => {
    // steady 60 Hz, then one 150 ms stall right after the image appears
    const clock = fakeFrames((f) => (f === 6 ? 150 : 1000 / 60));
    const changes: { at: number; visible: boolean }[] = [];
    const p = presentFor(100, (v) => changes.push({ at: clock.now(), visible: v }), undefined, clock.raf, clock.cancel);
    clock.run();
    const e = await p;
    const shownFor = changes[1].at - changes[0].at;
    assert.ok(shownFor > 150, `shown for ${shownFor}`);
    assert.ok(Math.abs(e.measuredMs - shownFor) < 1e-6);
    // more than a frame off: the rating screen shows the image again
    assert.equal(missedByFrames(e), true);
  });

  it('puts the mask up and rejects when aborted', async () => {
    const clock = fakeFrames(() => 1000 / 60);
    const ac = new AbortController();
    const changes: boolean[] = [];
    const p = presentFor(500, (v) => changes.push(v), ac.signal, clock.raf, clock.cancel);
    // the image is up after the warm-up frames; abort mid-exposure
    clock.step(8);
    assert.deepEqual(changes, [true]);
    ac.abort();
    clock.run();
    await assert.rejects(p, { name: 'AbortError' });
    assert.deepEqual(changes, [true, false]);
  });
});
