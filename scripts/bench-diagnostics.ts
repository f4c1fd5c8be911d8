// The proof that the live detectors are right (issue 7): trains the scenario suite
// (electron/core/diagnostics/scenarios.ts) — real short runs on MNIST and the ring of 8, healthy
// baselines of several families and one induced fault per detector — with every seed listed
// there, and reports per detector precision, recall and the median detection latency in steps
// (from the step the fault is induced: the fork of a healthy prefix, or step 0 when the fault is in
// the data or config from the start), plus the measured probe overhead share.
//
//   npm run bench:diagnostics -- [--quick] [--scenarios id,id] [--backend wasm|cpu|auto] [--json]
//       [--out bench-results/diagnostics.json]
//
// --quick runs each scenario's first seed only. The table is printed; the JSON (every run with its
// alerts, and the scores) goes to --out (default bench-results/diagnostics-<time>.json), or to
// stdout with --json. Ctrl-C stops after the current run is cleaned up.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../electron/core/paths.ts';
import { SCENARIOS, checkOutcome, scoreDetectors, type ScenarioOutcome } from '../electron/core/diagnostics/scenarios.ts';
import { ScenarioLab } from '../electron/core/diagnostics/scenario-runner.ts';

interface Options {
  quick: boolean;
  scenarios: string[] | null;
  backend: 'wasm' | 'cpu' | 'auto';
  json: boolean;
  out: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, scenarios: null, backend: 'wasm', json: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--json') o.json = true;
    else if (a === '--scenarios') o.scenarios = value().split(',').filter(Boolean);
    else if (a === '--out') o.out = value();
    else if (a === '--backend') {
      const b = value();
      if (b !== 'wasm' && b !== 'cpu' && b !== 'auto') throw new Error(`--backend: wasm, cpu or auto, not ${b}`);
      o.backend = b;
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.scenarios) {
    const unknown = o.scenarios.filter((id) => !SCENARIOS.some((s) => s.id === id));
    if (unknown.length) throw new Error(`--scenarios: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  }
  return o;
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(0)} %`);
const pad = (s: string, n: number) => s.padEnd(n);

async function main(): Promise<void> {
  let o: Options;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = (line: string) => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  const chosen = SCENARIOS.filter((s) => !o.scenarios || o.scenarios.includes(s.id));
  const plan = chosen.flatMap((s) => (o.quick ? s.seeds.slice(0, 1) : s.seeds).map((seed) => ({ s, seed })));
  log(`diagnostics scenario suite: ${plan.length} runs of ${chosen.length} scenarios on ${o.backend}`);
  const lab = await ScenarioLab.create({ backend: o.backend });
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: finishing the current run, then stopping');
  });
  const outcomes: ScenarioOutcome[] = [];
  const t0 = performance.now();
  try {
    for (const [i, { s, seed }] of plan.entries()) {
      if (interrupted) break;
      const out = await lab.run(s, seed);
      outcomes.push(out);
      const c = checkOutcome(s, out);
      const verdict = c.missing.length === 0 && c.unexpected.length === 0 ? 'ok' : `MISS ${[...c.missing, ...c.unexpected.map((a) => `+${a.kind}/${a.severity}`)].join(' ')}`;
      const raised = out.alerts.map((a) => `${a.kind}/${a.severity}@${a.detectedStep}`).join(' ') || 'none';
      log(`[${i + 1}/${plan.length}] ${pad(s.id, 30)} seed ${String(seed).padStart(2)}  ${out.status} at ${out.steps}, ${(out.wallMs / 1000).toFixed(1)} s, overhead ${out.overhead === null ? '—' : `${(out.overhead * 100).toFixed(1)} %`}  ${verdict}  (${raised})`);
    }
  } finally {
    await lab.close();
  }
  const wallS = (performance.now() - t0) / 1000;
  const scores = scoreDetectors(outcomes, chosen);
  const overheads = outcomes.map((x) => x.overhead).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const medOverhead = overheads.length ? overheads[overheads.length >> 1]! : null;
  log('');
  log(`${pad('detector', 20)} ${pad('runs', 5)} ${pad('TP', 4)} ${pad('FP', 4)} ${pad('precision', 10)} ${pad('recall', 8)} median latency (steps) [each]`);
  for (const d of scores) {
    log(`${pad(d.kind, 20)} ${pad(String(d.expected), 5)} ${pad(String(d.truePositives), 4)} ${pad(String(d.falsePositives), 4)} ${pad(pct(d.precision), 10)} ${pad(pct(d.recall), 8)} ${d.medianLatency === null ? '—' : String(d.medianLatency)} ${d.latencies.length ? `[${d.latencies.join(', ')}]` : ''}`);
  }
  const healthy = outcomes.filter((x) => chosen.find((s) => s.id === x.scenario)!.healthy);
  const quiet = healthy.filter((x) => x.alerts.every((a) => a.severity === 'info')).length;
  log('');
  log(`healthy runs without a warning or critical alert: ${quiet} of ${healthy.length}`);
  log(`probe overhead (share of training time, last measurement per run): median ${medOverhead === null ? '—' : `${(medOverhead * 100).toFixed(1)} %`}, max ${overheads.length ? `${(overheads.at(-1)! * 100).toFixed(1)} %` : '—'} (budget ${5} %)`);
  log(`wall time ${wallS.toFixed(0)} s`);
  const report = { kind: 'bench:diagnostics', at: new Date().toISOString(), backend: o.backend, quick: o.quick, wallSeconds: wallS, interrupted, scores, healthy: { runs: healthy.length, quiet }, overhead: { median: medOverhead, max: overheads.at(-1) ?? null }, outcomes };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const file = o.out ?? path.join(PROJECT_ROOT, 'bench-results', `diagnostics-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(report, null, 1));
    log(`written: ${path.relative(process.cwd(), file)}`);
  }
}

void main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
