// TrainerHost against a scripted fake TrainerProcess (RELIABILITY B1, B2, B4): malformed messages
// are reported and the host goes on; an exit without `done` becomes a crash whose reason names
// the signal or the exit code; a silent trainer is terminated with TERM, then KILL after the grace.
// Then the same junk through a studio core: the run's log says so and the run still completes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { HostToTrainer, TrainerToHost } from '../../electron/common/trainer-protocol.ts';
import { TrainerHost, type CrashInfo } from '../../electron/core/trainer/host.ts';
import type { TrainerExit, TrainerProcess, TrainerSpawner } from '../../electron/core/trainer/trainer-process.ts';
import { StudioHarness, tinyConfigInput } from '../integration/fixtures/trainer-harness.ts';

class FakeTrainer implements TrainerProcess {
  readonly pid = 424242;
  readonly sent: HostToTrainer[] = [];
  readonly kills: { signal: string; at: number }[] = [];
  #message: ((m: unknown) => void)[] = [];
  #exit: ((e: TrainerExit) => void)[] = [];
  #stderr: ((t: string) => void)[] = [];
  exited = false;

  constructor(
    /** what the fake does when signalled; default: dies of any signal (reported asynchronously, as a real exit is) */
    readonly onSignal: (self: FakeTrainer, signal: string) => void = (self, signal) => setImmediate(() => self.exit({ code: null, signal })),
    readonly onSend: (self: FakeTrainer, m: HostToTrainer) => void = () => {},
  ) {}

  send(message: HostToTrainer): void {
    this.sent.push(message);
    this.onSend(this, message);
  }
  onMessage(l: (m: unknown) => void): void {
    this.#message.push(l);
  }
  onExit(l: (e: TrainerExit) => void): void {
    this.#exit.push(l);
  }
  onStderr(l: (t: string) => void): void {
    this.#stderr.push(l);
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.kills.push({ signal, at: performance.now() });
    if (!this.exited) this.onSignal(this, signal);
  }
  emit(m: unknown): void {
    for (const l of this.#message) l(m);
  }
  stderr(t: string): void {
    for (const l of this.#stderr) l(t);
  }
  exit(e: TrainerExit): void {
    if (this.exited) return;
    this.exited = true;
    for (const l of this.#exit) l(e);
  }
}

function hostWith(fake: FakeTrainer, opts = {}) {
  const got = { messages: [] as TrainerToHost[], invalid: [] as string[], crashes: [] as CrashInfo[], exits: [] as TrainerExit[] };
  const host = new TrainerHost(
    () => fake,
    {
      onMessage: (m) => got.messages.push(m),
      onCrash: (c) => got.crashes.push(c),
      onExit: (e) => got.exits.push(e),
      onInvalidMessage: (p) => got.invalid.push(p),
    },
    opts,
  );
  return { host, got };
}

const JUNK: unknown[] = [
  null,
  42,
  'ready',
  [],
  {},
  { type: 'no-such-message' },
  { type: 'progress', step: 'seven', totalSteps: 10, imgPerSec: 1, rows: [] },
  { type: 'progress', step: 1.5, totalSteps: 10, imgPerSec: 1, rows: [] },
  { type: 'checkpoint', step: 10, dir: '/x', bytes: 1, sha256: 'h', kind: 'sneaky', pruned: [] },
  { type: 'done', status: 'completed', step: 3 },
  { type: 'log', level: 'info', message: { toString: 'not a string' } },
  { type: 'progress', step: 1, totalSteps: 10, imgPerSec: 1, rows: [{ step: 1, tag: 'x'.repeat(101), value: 0 }] },
];

describe('TrainerHost', () => {
  test('B1: every malformed message is reported and dropped; the host keeps working', () => {
    const fake = new FakeTrainer();
    const { host, got } = hostWith(fake);
    for (const junk of JUNK) fake.emit(junk);
    assert.equal(got.invalid.length, JUNK.length, 'each malformed message reported once');
    for (const p of got.invalid) assert.match(p, /^malformed trainer message \(/);
    assert.equal(got.messages.length, 0, 'no malformed message reaches the run manager');
    assert.equal(got.crashes.length, 0);
    // A malformed `done` must not count as done: the exit that follows is still a crash.
    fake.emit({ type: 'heartbeat', step: 3 });
    assert.deepEqual(got.messages, [{ type: 'heartbeat', step: 3 }], 'a valid message after the junk is delivered');
    fake.exit({ code: 0, signal: null });
    assert.equal(got.crashes.length, 1);
    assert.match(got.crashes[0]!.reason, /exited with code 0 without finishing/);
    assert.equal(host.exited, true);
  });

  test('B2: a signal or an exit code without `done` is a crash naming it, with the last stderr lines; after `done` it is not', () => {
    {
      const fake = new FakeTrainer();
      const { got } = hostWith(fake);
      fake.stderr('==============\nHi, looks like you are running TensorFlow.js in Node.js. To speed things up\n');
      fake.exit({ code: null, signal: 'SIGKILL' });
      assert.equal(got.crashes.length, 1);
      assert.equal(got.crashes[0]!.reason, 'the trainer process was killed by SIGKILL', 'tfjs banner noise is not a reason');
      assert.equal(got.crashes[0]!.oom, false);
      assert.equal(got.exits.length, 1);
    }
    {
      const fake = new FakeTrainer();
      const { got } = hostWith(fake);
      fake.stderr('<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n');
      fake.exit({ code: 134, signal: null });
      assert.match(got.crashes[0]!.reason, /exited with code 134 without finishing \(it ran out of memory: try a smaller batch size\); last output: .*heap out of memory/);
      assert.equal(got.crashes[0]!.oom, true);
    }
    {
      const fake = new FakeTrainer();
      const { got } = hostWith(fake);
      fake.emit({ type: 'done', status: 'completed', step: 10, reason: null });
      fake.exit({ code: 0, signal: null });
      assert.deepEqual(got.crashes, [], 'a trainer that reported done and exited did not crash');
      assert.equal(got.exits.length, 1);
    }
  });

  test('B4: a silent trainer gets SIGTERM after the heartbeat timeout, SIGKILL after the grace, and is a hung crash', async () => {
    // Ignores SIGTERM, as a process stopped by SIGSTOP does; dies of SIGKILL.
    const fake = new FakeTrainer((self, signal) => {
      if (signal === 'SIGKILL') setImmediate(() => self.exit({ code: null, signal }));
    });
    const t0 = performance.now();
    const { got } = hostWith(fake, { heartbeatTimeoutMs: 300, killGraceMs: 200 });
    // Heartbeats keep it alive...
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      fake.emit({ type: 'heartbeat', step: i });
    }
    assert.equal(fake.kills.length, 0, 'no signal while heartbeats arrive');
    const silentFrom = performance.now();
    await new Promise<void>((resolve) => {
      const iv = setInterval(() => {
        if (got.exits.length > 0) {
          clearInterval(iv);
          resolve();
        }
      }, 10);
    });
    assert.deepEqual(
      fake.kills.map((k) => k.signal),
      ['SIGTERM', 'SIGKILL'],
    );
    const term = fake.kills[0]!;
    const kill = fake.kills[1]!;
    assert.ok(term.at - silentFrom >= 300 - 5, `TERM only after the timeout (${(term.at - silentFrom).toFixed(0)} ms)`);
    assert.ok(term.at - silentFrom < 300 + 500, 'TERM soon after the timeout');
    assert.ok(kill.at - term.at >= 200 - 5, `KILL after the grace (${(kill.at - term.at).toFixed(0)} ms)`);
    assert.equal(got.crashes.length, 1);
    assert.equal(got.crashes[0]!.hung, true);
    assert.match(got.crashes[0]!.reason, /stopped responding \(no heartbeat for over \d+ s\) and was terminated/);
    assert.ok(performance.now() - t0 < 3000);
  });

  test('B4: a trainer that exits on SIGTERM is not sent SIGKILL', async () => {
    const fake = new FakeTrainer();
    const { got } = hostWith(fake, { heartbeatTimeoutMs: 100, killGraceMs: 100 });
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(
      fake.kills.map((k) => k.signal),
      ['SIGTERM'],
    );
    assert.equal(got.crashes[0]?.hung, true);
  });
});

describe('RunManager with a trainer that sends junk', () => {
  test('B1: junk is logged on the run, the core survives, and the run completes', async () => {
    const fakes: FakeTrainer[] = [];
    const spawnTrainer: TrainerSpawner = () => {
      const fake = new FakeTrainer(undefined, (self, m) => {
        if (m.type !== 'start') return;
        setImmediate(() => {
          for (const junk of JUNK) self.emit(junk);
          self.emit({ type: 'ready', backend: { name: 'cpu', provider: 'fake', device: 'cpu', skipped: [], forced: true }, startStep: 0, parameters: { generator: 1, discriminator: 1 } });
          self.emit({ type: 'progress', step: 3, totalSteps: 3, imgPerSec: 10, rows: [{ step: 3, tag: 'loss/g', value: 0.5 }] });
          self.emit({ type: 'done', status: 'completed', step: 3, reason: null });
          self.exit({ code: 0, signal: null });
        });
      });
      fakes.push(fake);
      return fake;
    };
    const h = await StudioHarness.create('gan-host-junk-', { spawnTrainer });
    try {
      const run = await h.start(tinyConfigInput('cpu', 1, { steps: 3 }));
      const done = await h.waitForStatus(run.id, ['completed', 'interrupted', 'failed'], 5000);
      assert.equal(done.value.status, 'completed');
      assert.equal(fakes.length, 1, 'no restart');
      const warnings = h.logs(run.id).filter((l) => l.startsWith('warn: malformed trainer message'));
      assert.equal(warnings.length, JUNK.length, 'each malformed message is in the run log');
      const detail = await h.client.call('runs.get', { runId: run.id });
      assert.equal(detail.step, 3);
      assert.deepEqual((await h.client.call('runs.scalars', { runId: run.id, tags: ['loss/g'] }))['loss/g']?.values, [0.5]);
      // The core still serves requests.
      assert.ok((await h.client.call('runs.list', {})).some((r) => r.id === run.id));
    } finally {
      await h.close();
      h.dispose();
    }
    assert.ok(!fs.existsSync(h.home));
  });
});

describe('RunManager with a trainer that runs out of memory', () => {
  test('B3: repeated OOM crashes are resumed a bounded number of times, then `failed` suggesting a smaller batch', async () => {
    let spawned = 0;
    const spawnTrainer: TrainerSpawner = () => {
      spawned++;
      const fake = new FakeTrainer(undefined, (self, m) => {
        if (m.type !== 'start') return;
        assert.equal(m.resume, spawned > 1, 'an automatic restart asks the trainer to resume from its checkpoint');
        setImmediate(() => {
          self.emit({ type: 'ready', backend: { name: 'cpu', provider: 'fake', device: 'cpu', skipped: [], forced: true }, startStep: 0, parameters: { generator: 1, discriminator: 1 } });
          self.stderr('\n<--- JS stacktrace --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n');
          self.exit({ code: 134, signal: null });
        });
      });
      return fake;
    };
    const h = await StudioHarness.create('gan-host-oom-', { spawnTrainer, autoResume: { maxRestarts: 1, windowMs: 60_000, backoffMs: 10 } });
    try {
      const run = await h.start(tinyConfigInput('cpu', 1, { steps: 100, batchSize: 512 }));
      const failed = await h.waitForStatus(run.id, 'failed', 5000);
      assert.equal(spawned, 2, 'one automatic restart, then it gives up');
      assert.match(failed.value.statusReason ?? '', /^the trainer crashed 2 times within 1 minutes; last: the trainer process exited with code 134 without finishing \(it ran out of memory: try a smaller batch size\).*It ran out of memory: start it again with a smaller batch size\.$/);
      assert.deepEqual(
        h.statuses(run.id).map(([s]) => s),
        ['queued', 'running', 'interrupted', 'queued', 'running', 'interrupted', 'failed'],
      );
    } finally {
      await h.close();
      h.dispose();
    }
  });
});
