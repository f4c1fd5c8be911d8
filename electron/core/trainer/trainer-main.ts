// Entry point of a trainer process: one run per process. Started by `child_process.fork` in plain
// Node and by Electron's `utilityProcess.fork` in the desktop app; it never runs on the main event
// loop. It validates every message it gets and speaks only trainer-protocol messages back.
import path from 'node:path';
import { promises as fsp } from 'node:fs';
import sharp from 'sharp';
import { HostToTrainerSchema, type HostToTrainer, type TrainerToHost, type ScalarRow } from '../../common/trainer-protocol.ts';
import { toErrorData } from '../../common/errors.ts';
import { selectBackend } from './backend.ts';
import { loadDatasetCache } from '../datasets/cache.ts';
import { GanTrainer, type HoldoutImages, type StepStats } from './gan-trainer.ts';
import { trainingDataFromCache } from './data-source.ts';
import { loadLatestGoodCheckpoint, nodeCheckpointFs, pruneCheckpoints, writeCheckpoint, type CheckpointFs } from './checkpoint.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';

const KEEP_CHECKPOINTS = 3;
const HEARTBEAT_MS = 1000;

// Fault injection for tests of RELIABILITY E5, read nowhere else: the first disk write (sample or
// checkpoint) at each listed step fails once with ENOSPC, as a full disk would; a checkpoint's
// tensors.bin is left half written first. Unset in normal use.
const faultDiskFullAt = new Set((process.env.GAN_STUDIO_FAULT_ENOSPC_AT_STEP ?? '').split(',').filter(Boolean).map(Number));
const injectedDiskFull = () => Object.assign(new Error('ENOSPC: no space left on device, write (injected by GAN_STUDIO_FAULT_ENOSPC_AT_STEP)'), { code: 'ENOSPC' });
function checkpointFsAt(step: number): CheckpointFs {
  if (!faultDiskFullAt.delete(step)) return nodeCheckpointFs;
  return {
    ...nodeCheckpointFs,
    async writeFileDurable(file, data) {
      await fsp.writeFile(file, data.slice(0, Math.floor(data.length / 2)));
      throw injectedDiskFull();
    },
  };
}

interface Port {
  send(message: TrainerToHost): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** Electron utilityProcess exposes process.parentPort; a forked Node child uses process.send. */
function connect(): Port {
  const parentPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: unknown }) => void): void } }).parentPort;
  if (parentPort) {
    return { send: (m) => parentPort.postMessage(m), onMessage: (l) => parentPort.on('message', (e) => l(e.data)) };
  }
  if (!process.send) {
    process.stderr.write('trainer-main must be started as a child process with an IPC channel\n');
    process.exit(2);
  }
  // The host is gone: exit rather than train as an orphan (RELIABILITY B5).
  process.on('disconnect', () => process.exit(0));
  return { send: (m) => process.send!(m), onMessage: (l) => process.on('message', l) };
}

const port = connect();
const send = (m: TrainerToHost) => port.send(m);
const log = (level: 'info' | 'warn' | 'error', message: string) => send({ type: 'log', level, message });

const control: { paused: boolean; stop: boolean; wake: (() => void) | null } = { paused: false, stop: false, wake: null };
let started = false;
let currentStep = 0;

port.onMessage((raw) => {
  const parsed = HostToTrainerSchema.safeParse(raw);
  if (!parsed.success) {
    log('warn', `ignored a malformed message from the host: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return;
  }
  handle(parsed.data);
});

function handle(msg: HostToTrainer): void {
  switch (msg.type) {
    case 'start':
      if (started) return log('warn', 'ignored a second start message');
      started = true;
      void run(msg).then(
        () => process.exit(0),
        (err) => {
          send({ type: 'done', status: 'failed', step: currentStep, reason: (err as Error).message, error: toErrorData(err) });
          process.exitCode = 1;
          setTimeout(() => process.exit(1), 50);
        },
      );
      return;
    case 'pause':
      control.paused = true;
      return;
    case 'resume':
      control.paused = false;
      control.wake?.();
      return;
    case 'stop':
      control.stop = true;
      control.wake?.();
      return;
  }
}

setInterval(() => send({ type: 'heartbeat', step: currentStep }), HEARTBEAT_MS);

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function waitWhilePaused(step: number, reason?: string): Promise<void> {
  if (!control.paused || control.stop) return;
  send({ type: 'paused', step, ...(reason ? { reason } : {}) });
  while (control.paused && !control.stop) {
    await new Promise<void>((resolve) => {
      control.wake = resolve;
    });
    control.wake = null;
  }
  if (!control.stop) send({ type: 'resumed', step });
}

async function run(msg: Extract<HostToTrainer, { type: 'start' }>): Promise<void> {
  const { config, runDir } = msg;
  const { tf, report } = await selectBackend(config.backend);
  const data = await loadDatasetCache(msg.dataset.dir);
  const { training, holdout } = await splitHoldout(msg, data);
  const trainer = new GanTrainer(config, training, { holdout });
  const checkpointsDir = path.join(runDir, 'checkpoints');
  const samplesDir = path.join(runDir, 'samples');
  await fsp.mkdir(samplesDir, { recursive: true });

  if (msg.resume) {
    const { checkpoint, skipped } = await loadLatestGoodCheckpoint(checkpointsDir);
    for (const s of skipped) log('warn', `skipped a damaged checkpoint: ${s}`);
    if (checkpoint) {
      trainer.restore(checkpoint);
      log('info', `resumed from the checkpoint at step ${checkpoint.manifest.step}`);
    } else {
      log('warn', 'no usable checkpoint to resume from: starting from step 0');
    }
  }
  currentStep = trainer.step;
  send({ type: 'ready', backend: report, startStep: trainer.step, parameters: { generator: trainer.G.params.count(), discriminator: trainer.D.params.count() } });

  const { steps, scalarEvery, sampleEverySeconds, checkpointEvery, batchSize } = config.schedule;
  const probes = msg.diagnostics && !msg.dryRun ? new ProbeSchedule(msg.diagnostics.overheadBudget) : null;
  let window: StepStats[] = [];
  let windowStart = performance.now();
  let lastSample = -Infinity;

  /**
   * Disk full (RELIABILITY E5): on ENOSPC the run pauses with a clear reason, earlier checkpoints
   * stay, and the write is tried again on resume. False when the run was stopped instead.
   */
  const retryWhileDiskFull = async (what: string, write: () => Promise<void>): Promise<boolean> => {
    for (;;) {
      try {
        await write();
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        const reason = `the disk is full: the ${what} at step ${trainer.step} could not be written (${(err as Error).message}); free space, then resume`;
        if (control.stop) {
          log('error', reason);
          return false;
        }
        control.paused = true;
        await waitWhilePaused(trainer.step, reason);
        if (control.stop) return false;
      }
    }
  };

  const writeSample = async (step: number): Promise<boolean> =>
    msg.dryRun ||
    retryWhileDiskFull('sample image', async () => {
      const grid = trainer.sampleGrid();
      const png = await sharp(grid.pixels, { raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 } }).png().toBuffer();
      const file = path.join(samplesDir, `step-${String(step).padStart(9, '0')}.png`);
      if (faultDiskFullAt.delete(step)) throw injectedDiskFull();
      await writeFileAtomic(file, png);
      send({ type: 'sample', step, file });
      lastSample = performance.now();
    });

  const checkpoint = async (kind: 'periodic' | 'final' | 'stop'): Promise<boolean> => {
    if (msg.dryRun) return true;
    const snap = trainer.snapshot();
    return retryWhileDiskFull('checkpoint', async () => {
      const written = await writeCheckpoint(checkpointsDir, trainer.step, kind, snap.tensors, snap.state, checkpointFsAt(trainer.step));
      const pruned = await pruneCheckpoints(checkpointsDir, KEEP_CHECKPOINTS);
      send({ type: 'checkpoint', step: trainer.step, dir: written.dir, bytes: written.bytes, sha256: written.sha256, kind, pruned });
    });
  };

  const flush = () => {
    if (window.length === 0) return;
    const secs = (performance.now() - windowStart) / 1000;
    const imgPerSec = (window.length * batchSize) / Math.max(secs, 1e-9);
    const last = window[window.length - 1];
    // Every tag the family reported: the window's mean, except gradient norms, which are only
    // measured on the step that ends the window.
    const rows: ScalarRow[] = [];
    const tags = new Set(window.flatMap((s) => Object.keys(s.scalars)));
    for (const tag of tags) {
      const values = window.map((s) => s.scalars[tag]).filter((v): v is number => v !== undefined && Number.isFinite(v));
      if (values.length === 0) continue;
      const value = tag.startsWith('grad/') ? values[values.length - 1] : values.reduce((a, b) => a + b, 0) / values.length;
      rows.push({ step: last.step, tag, value });
    }
    rows.push({ step: last.step, tag: 'perf/img_per_sec', value: imgPerSec });
    send({ type: 'progress', step: last.step, totalSteps: steps, imgPerSec, rows });
    window = [];
    windowStart = performance.now();
  };

  // Optimizer slots appear on the first update; after that the count must stay flat (F2).
  let baseTensors = -1;
  while (trainer.step < steps && !control.stop) {
    await waitWhilePaused(trainer.step);
    if (control.stop) break;
    if (window.length === 0) windowStart = performance.now();
    const stats = trainer.trainStep((trainer.step + 1) % scalarEvery === 0);
    currentStep = stats.step;
    const values = [stats.gLoss, stats.dLoss, stats.gGradNorm ?? 0, stats.dGradNorm ?? 0];
    if (!values.every(Number.isFinite)) {
      // Divergence (RELIABILITY F1): no checkpoint of this state; the last good one stays.
      flush();
      const reason = `non-finite values at step ${stats.step}: G loss ${stats.gLoss}, D loss ${stats.dLoss}${stats.gGradNorm !== undefined ? `, |∇G| ${stats.gGradNorm}, |∇D| ${stats.dGradNorm}` : ''}`;
      send({ type: 'done', status: 'diverged', step: stats.step, reason });
      return;
    }
    // Diagnostics probes ride on the step that ends a scalar window, within the time budget.
    if (probes && stats.step % scalarEvery === 0 && probes.due()) Object.assign(stats.scalars, probes.run(() => trainer.diagnosticProbe()));
    window.push(stats);
    if (stats.step % scalarEvery === 0) flush();
    if (stats.step === 1 || performance.now() - lastSample >= sampleEverySeconds * 1000) await writeSample(stats.step);
    if (checkpointEvery > 0 && stats.step % checkpointEvery === 0 && stats.step < steps) await checkpoint('periodic');
    if (baseTensors < 0) baseTensors = tf.memory().numTensors;
    else if (stats.step % 100 === 0 && tf.memory().numTensors > baseTensors) {
      log('warn', `tensor count grew from ${baseTensors} to ${tf.memory().numTensors} since the first step (a leak)`);
      baseTensors = tf.memory().numTensors;
    }
    await yieldToEventLoop();
  }
  flush();
  const status = control.stop && trainer.step < steps ? 'stopped' : 'completed';
  await writeSample(trainer.step);
  await checkpoint(status === 'stopped' ? 'stop' : 'final');
  send({ type: 'done', status, step: trainer.step, reason: null });
  trainer.dispose();
}

/**
 * When to run the diagnostics probe: whenever the probes so far plus one more (at the last one's
 * cost) stay within `budget` of the wall time since training started. The measured share is
 * reported as `diag/overhead` with every probe, so the UI can show it.
 */
class ProbeSchedule {
  readonly #start = performance.now();
  #spentMs = 0;
  #lastMs = 0;
  constructor(readonly budget: number) {}
  due(): boolean {
    const elapsed = performance.now() - this.#start;
    return this.#spentMs + this.#lastMs <= this.budget * elapsed;
  }
  run(probe: () => Record<string, number>): Record<string, number> {
    const t0 = performance.now();
    const out = probe();
    this.#lastMs = performance.now() - t0;
    this.#spentMs += this.#lastMs;
    out['diag/probe_ms'] = this.#lastMs;
    out['diag/overhead'] = this.#spentMs / Math.max(performance.now() - this.#start, 1e-9);
    return out;
  }
}

/**
 * The training data and the held-out images for the D-overfitting signal: the dataset's held-out
 * split when it has one; with `reserve` and no split, the last 10 % of the items (by index) are
 * kept out of training instead. Images only.
 */
async function splitHoldout(msg: Extract<HostToTrainer, { type: 'start' }>, data: Awaited<ReturnType<typeof loadDatasetCache>>): Promise<{ training: ReturnType<typeof trainingDataFromCache>; holdout: HoldoutImages | null }> {
  const training = trainingDataFromCache(data);
  const mode = msg.diagnostics?.holdout ?? 'off';
  const m = data.manifest;
  if (mode === 'off' || m.layout !== 'images' || !data.images) return { training, holdout: null };
  const size = m.height * m.width * m.channels;
  const split = m.holdout?.count ?? 0;
  if (split > 0) {
    const buf = await fsp.readFile(path.join(msg.dataset.dir, 'holdout_images.u8')).catch(() => null);
    // the labels too when there are any: a conditional D scores an image with its class
    const labels = data.labels ? await fsp.readFile(path.join(msg.dataset.dir, 'holdout_labels.u8')).catch(() => null) : null;
    if (buf && buf.byteLength >= split * size) return { training, holdout: { images: new Uint8Array(buf.buffer, buf.byteOffset, split * size), count: split, labels: labels && labels.byteLength >= split ? new Uint8Array(labels.buffer, labels.byteOffset, split) : null } };
  }
  if (mode !== 'reserve' || m.count < 20) return { training, holdout: null };
  const keep = m.count - Math.max(1, Math.floor(m.count / 10));
  return {
    training: { ...training, shape: { ...training.shape, count: keep } },
    holdout: { images: data.images.subarray(keep * size, m.count * size), count: m.count - keep, labels: data.labels ? data.labels.subarray(keep, m.count) : null },
  };
}
