// The scenario suite behind issue 7's proof that the detectors are right: real short runs on MNIST
// and the 2-D mixtures, each built to behave in a known way, with the alert kinds it must raise
// and the ones it must not. Shared by test/integration/diagnostics-*.test.ts and
// `npm run bench:diagnostics`. Pure data and scoring; scenario-runner.ts trains them.
//
// A fault scenario starts from a healthy prefix: the base config trains `prefix` steps with a
// checkpoint at the end, then `runs.fork` continues from that checkpoint with the fault patch. The
// fault is therefore induced at a known step, and detection latency is measured from there.
// Scenarios whose fault is in the data or the config from step 0 (small data, a collapsing setup)
// have no prefix; their latency counts from step 0 and includes the detectors' warm-up.
import type { Alert, AlertKind } from '../../common/api.ts';
import { ALERT_KINDS } from '../../common/api.ts';
import type { DiagnosticsConfigInput } from './config.ts';

/** A few dozen MNIST digits with a held-out split (the D-overfitting scenario's data). */
export const SMALL_MNIST = { id: 'scenario:mnist-small', train: 32, holdout: 64 } as const;

export interface Scenario {
  id: string;
  title: string;
  /** what makes it behave this way */
  why: string;
  healthy: boolean;
  /** runs.start config without seed and backend (the runner sets them) */
  config: Record<string, unknown>;
  diagnostics?: DiagnosticsConfigInput;
  /** healthy prefix length; the fault patch applies from this step on (a fork of the prefix's checkpoint) */
  prefix?: number;
  /** merged into the config for the fault phase (must keep the network shapes and optimizer kinds) */
  fault?: Record<string, unknown>;
  /** the step the fault is known to start (the prefix, or 0) */
  faultStep: number;
  /** kinds it must raise (any severity) */
  expect: AlertKind[];
  /** kinds that may legitimately come along (a consequence of the same fault); everything else at warning or above is a false positive */
  tolerate: AlertKind[];
  /** seeds the bench runs; the first is the test's */
  seeds: number[];
}

const TINY = { gChannels: 16, dChannels: 8, latentDim: 16 };
const adam = (lr: number, beta1 = 0.5, beta2 = 0.999) => ({ kind: 'adam', lr, beta1, beta2 });
const sgd = (lr: number) => ({ kind: 'sgd', lr, beta1: 0, beta2: 0.9 });
const schedule = (steps: number, batchSize = 16, extra: Record<string, unknown> = {}) => ({ steps, batchSize, scalarEvery: 5, checkpointEvery: 0, sampleEverySeconds: 3600, ...extra });

export const SCENARIOS: Scenario[] = [
  // ---- healthy baselines: nothing at warning or above ----
  {
    id: 'healthy-dcgan-mnist',
    title: 'Healthy DCGAN on MNIST',
    why: 'A small DCGAN with the reference Adam settings: D and G stay balanced.',
    healthy: true,
    config: { dataset: 'builtin:mnist', family: 'dcgan', architecture: TINY, schedule: schedule(500) },
    faultStep: 0,
    expect: [],
    tolerate: [],
    seeds: [11, 12, 13],
  },
  {
    id: 'healthy-lsgan-mnist',
    title: 'Healthy LSGAN on MNIST',
    why: 'Least-squares objective, same small networks.',
    healthy: true,
    config: { dataset: 'builtin:mnist', family: 'lsgan', architecture: TINY, schedule: schedule(500) },
    faultStep: 0,
    expect: [],
    tolerate: [],
    seeds: [21, 22],
  },
  {
    id: 'healthy-hinge-sn-mnist',
    title: 'Healthy hinge loss + spectral norm (SAGAN without attention) on MNIST',
    why: 'The SAGAN recipe: hinge loss, spectral norm in D, TTUR.',
    healthy: true,
    config: { dataset: 'builtin:mnist', family: 'sagan', architecture: { ...TINY, selfAttention: false }, schedule: schedule(500) },
    faultStep: 0,
    expect: [],
    tolerate: [],
    seeds: [31, 32],
  },
  {
    id: 'healthy-wgan-gp-ring',
    title: 'Healthy WGAN-GP on the ring of 8',
    why: 'Wasserstein loss with gradient penalty on the 2-D mixture: covers the modes without collapse.',
    healthy: true,
    config: { dataset: 'builtin:ring8', family: 'wgan-gp', architecture: { latentDim: 8, hiddenUnits: 64 }, schedule: schedule(600, 64) },
    faultStep: 0,
    expect: [],
    tolerate: [],
    seeds: [41, 42],
  },
  // ---- faults ----
  {
    id: 'collapse-ring-minimax',
    title: 'Mode collapse: ring of 8, minimax loss, 2-D latent, G lr 1e-2',
    why: 'A saturating G loss and large G steps make G chase one mode after another (the textbook collapse).',
    healthy: false,
    config: {
      dataset: 'builtin:ring8',
      family: 'dcgan',
      objective: 'minimax',
      architecture: { latentDim: 2, hiddenUnits: 64 },
      optimizer: { g: adam(1e-2) },
      schedule: schedule(800),
    },
    // probes run on a time budget, so which steps they see varies: a persistence horizon inside this short run keeps detection from depending on catching the diversity peak
    diagnostics: { modeCollapse: { persistAfterSteps: 400 } },
    faultStep: 0,
    expect: ['mode_collapse'],
    tolerate: ['instability', 'convergence_failure', 'gradient'],
    seeds: [3, 4, 5],
  },
  {
    id: 'convergence-strong-d',
    title: 'Convergence failure: D 2× wider with lr ×10',
    why: 'A much stronger D separates real from fake with certainty and G gets no useful gradient. (Forked from a healthy prefix with only the lr raised, G kept up within 600 steps: the wider D is needed, so the fault is in the config from step 0.)',
    healthy: false,
    config: { dataset: 'builtin:mnist', family: 'dcgan', architecture: { ...TINY, dChannels: 16 }, optimizer: { d: adam(2e-3) }, schedule: schedule(400) },
    faultStep: 0,
    expect: ['convergence_failure'],
    tolerate: ['gradient', 'stagnation'],
    seeds: [3, 4, 5],
  },
  {
    id: 'divergence-sgd-lr1',
    title: 'Divergence: plain SGD at lr 1',
    why: 'Steps far too large for the loss surface: the weights and losses blow up to Inf/NaN.',
    healthy: false,
    config: { dataset: 'builtin:mnist', family: 'dcgan', architecture: { ...TINY, gNorm: 'none' }, optimizer: { g: sgd(0.01), d: sgd(0.01) }, schedule: schedule(400) },
    prefix: 150,
    fault: { optimizer: { g: sgd(1), d: sgd(1) } },
    faultStep: 150,
    expect: ['divergence'],
    tolerate: ['gradient', 'instability', 'convergence_failure'],
    seeds: [7, 8, 9],
  },
  {
    id: 'instability-high-lr-momentum',
    title: 'Instability: both lrs ×25 with β1 0.9',
    why: 'Large steps with heavy momentum make the two players overshoot each other: the losses swing.',
    healthy: false,
    config: { dataset: 'builtin:mnist', family: 'dcgan', architecture: TINY, schedule: schedule(500) },
    prefix: 150,
    fault: { optimizer: { g: adam(5e-3, 0.9), d: adam(5e-3, 0.9) } },
    faultStep: 150,
    expect: ['instability'],
    tolerate: ['convergence_failure', 'gradient', 'mode_collapse'],
    seeds: [3, 4, 5],
  },
  {
    id: 'stagnation-frozen-g',
    title: 'Stagnation: G lr 1e-9 (G frozen)',
    why: "G's updates are too small to change its samples: nothing improves.",
    healthy: false,
    config: { dataset: 'builtin:mnist', family: 'dcgan', architecture: TINY, schedule: schedule(700) },
    prefix: 150,
    fault: { optimizer: { g: adam(1e-9) } },
    // a short run: the window is scaled to it (the default, 2000 steps, suits real runs)
    diagnostics: { stagnation: { windowSteps: 200 } },
    faultStep: 150,
    expect: ['stagnation'],
    tolerate: ['convergence_failure', 'gradient'],
    seeds: [3, 4, 5],
  },
  {
    id: 'd-overfit-small-mnist',
    title: `D overfitting: ${SMALL_MNIST.train} MNIST digits, a 4× wider D with lr ×10 and 2 D steps per G step`,
    why: 'A big, fast D on a few dozen images memorises them: held-out digits drift towards the fakes in its eyes (the gap passed 0.5 around step 1100 and reached 0.97; with 128–320 digits and 1 D step it stayed ≤ 0.25 within 1500 steps).',
    healthy: false,
    config: { dataset: SMALL_MNIST.id, family: 'dcgan', architecture: { ...TINY, dChannels: 32 }, optimizer: { d: adam(2e-3) }, schedule: schedule(1500, 16, { dStepsPerG: 2 }) },
    faultStep: 0,
    expect: ['d_overfitting'],
    tolerate: ['convergence_failure', 'gradient', 'mode_collapse', 'instability', 'stagnation'],
    seeds: [3, 4],
  },
];

export function scenarioById(id: string): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}; known: ${SCENARIOS.map((x) => x.id).join(', ')}`);
  return s;
}

/** The outcome of one scenario run (both phases of a fault scenario). */
export interface ScenarioOutcome {
  scenario: string;
  seed: number;
  runIds: string[];
  status: string;
  steps: number;
  wallMs: number;
  /** the last measured probe overhead share (diag/overhead) of the last phase; null without probes */
  overhead: number | null;
  probes: number;
  alerts: Alert[];
}

export interface DetectorScore {
  kind: AlertKind;
  /** runs where the kind was expected / raised as expected / raised where neither expected nor tolerated */
  expected: number;
  truePositives: number;
  falsePositives: number;
  precision: number | null;
  recall: number | null;
  /** detection step − fault step, per detected run */
  latencies: number[];
  medianLatency: number | null;
}

export const isSerious = (a: Alert) => a.severity !== 'info';

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Which alerts of a run break its scenario's contract: missing expected kinds, unexpected serious ones. */
export function checkOutcome(s: Scenario, o: ScenarioOutcome): { missing: AlertKind[]; unexpected: Alert[] } {
  const missing = s.expect.filter((k) => !o.alerts.some((a) => a.kind === k));
  const unexpected = o.alerts.filter((a) => isSerious(a) && !s.expect.includes(a.kind) && !s.tolerate.includes(a.kind));
  return { missing, unexpected };
}

/**
 * Per detector over a set of outcomes: recall = expected runs where it fired (any severity) /
 * expected runs; precision = those / (those + runs where it fired at warning or above without
 * being expected or tolerated); latency from the scenario's fault step to the first alert of the
 * kind that opened at or after it.
 */
export function scoreDetectors(outcomes: ScenarioOutcome[], scenarios: Scenario[] = SCENARIOS): DetectorScore[] {
  return ALERT_KINDS.map((kind) => {
    let expected = 0;
    let tp = 0;
    let fp = 0;
    const latencies: number[] = [];
    for (const o of outcomes) {
      const s = scenarios.find((x) => x.id === o.scenario);
      if (!s) continue;
      const mine = o.alerts.filter((a) => a.kind === kind).sort((a, b) => a.detectedStep - b.detectedStep);
      if (s.expect.includes(kind)) {
        expected++;
        if (mine.length > 0) {
          tp++;
          const first = mine.find((a) => a.startStep >= s.faultStep) ?? mine[0]!;
          latencies.push(first.detectedStep - s.faultStep);
        }
      } else if (!s.tolerate.includes(kind) && mine.some(isSerious)) {
        fp++;
      }
    }
    return {
      kind,
      expected,
      truePositives: tp,
      falsePositives: fp,
      precision: tp + fp > 0 ? tp / (tp + fp) : null,
      recall: expected > 0 ? tp / expected : null,
      latencies,
      medianLatency: median(latencies),
    };
  });
}
