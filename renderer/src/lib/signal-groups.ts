// The run page's "Other signals": every scalar tag beyond loss, D output and throughput, one chart
// per tag prefix (`began/k` and `began/m_global` together, `grad/g_norm` with `grad/d_norm`).
import type { ChartSeries } from './theme.ts';

export interface SignalGroup {
  prefix: string;
  /** changes when the group's tags change, so its chart is rebuilt */
  key: string;
  title: string;
  series: ChartSeries[];
}

const TITLES: Record<string, string> = {
  began: 'BEGAN equilibrium',
  grad: 'Gradient norms',
  cycle: 'Cycle consistency',
  identity: 'Identity loss',
  l1: 'L1 to target',
  loss: 'Loss terms',
  reg: 'Regularisers',
  ebgan: 'EBGAN',
  d: 'Discriminator',
  perf: 'Performance',
};

const LABELS: Record<string, string> = {
  'began/k': 'k_t',
  'began/m_global': 'M_global',
  'grad/g_norm': '‖∇G‖',
  'grad/d_norm': '‖∇D‖',
  'cycle/loss': 'cycle',
  'identity/loss': 'identity',
  'l1/loss': 'L1',
  'loss/g_adv': 'G adversarial',
  'reg/r1': 'R1',
  'ebgan/pull_away': 'pulling-away',
};

const PALETTE = ['#f0a04b', '#5aa9e6', '#7bc47f', '#e57a9a', '#b39ddb', '#e0c060', '#4fc3c3', '#c28e6b'];

export function groupSignals(tags: readonly string[]): SignalGroup[] {
  const byPrefix = new Map<string, string[]>();
  for (const tag of [...tags].sort()) {
    const slash = tag.indexOf('/');
    const prefix = slash > 0 ? tag.slice(0, slash) : tag;
    const list = byPrefix.get(prefix) ?? [];
    list.push(tag);
    byPrefix.set(prefix, list);
  }
  return [...byPrefix.entries()].map(([prefix, list]) => ({
    prefix,
    key: `${prefix}:${list.join(',')}`,
    title: TITLES[prefix] ?? prefix,
    series: list.map((tag, i) => ({ tag, label: LABELS[tag] ?? (tag.slice(prefix.length + 1) || tag), color: PALETTE[i % PALETTE.length] })),
  }));
}
