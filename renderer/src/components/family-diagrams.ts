// Small G/D diagrams per family, as data: boxes for networks and tensors, arrows between them.
// FamilyDiagram.svelte draws them as SVG (attributes only: the CSP forbids inline styles).
import type { Family } from '../../../electron/common/config.ts';

export type NodeKind = 'g' | 'd' | 'data' | 'fake' | 'out' | 'aux';

export interface DiagramNode {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
  sub?: string;
  kind: NodeKind;
}

export interface DiagramEdge {
  /** SVG path data */
  d: string;
  label?: { x: number; y: number; text: string };
  dashed?: boolean;
}

export interface Diagram {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  caption: string;
}

export const DIAGRAM_WIDTH = 336;
export const DIAGRAM_HEIGHT = 96;

const node = (x: number, y: number, label: string, kind: NodeKind, sub?: string, w = kind === 'g' || kind === 'd' || kind === 'aux' ? 50 : 26, h = 24): DiagramNode => ({ x, y, w, h, label, kind, sub });
/** centre-right, centre-left, top-centre and bottom-centre of a node */
const right = (n: DiagramNode) => [n.x + n.w, n.y + n.h / 2] as const;
const left = (n: DiagramNode) => [n.x, n.y + n.h / 2] as const;
const top = (n: DiagramNode) => [n.x + n.w / 2, n.y] as const;
const bottom = (n: DiagramNode) => [n.x + n.w / 2, n.y + n.h] as const;
const line = (a: readonly [number, number], b: readonly [number, number]): DiagramEdge => ({ d: `M${a[0]},${a[1]} L${b[0] - 1},${b[1]}` });
const elbow = (a: readonly [number, number], b: readonly [number, number]): DiagramEdge => ({ d: `M${a[0]},${a[1]} L${b[0]},${a[1]} L${b[0]},${b[1] + (b[1] > a[1] ? -1 : 1)}` });

/** z → G → x̃ → D ← x, D → verdict; the shape most families share */
function twoPlayer(opts: { gSub?: string; dLabel?: string; dSub?: string; verdict: string; y?: boolean; mapping?: boolean; autoencoder?: boolean }): Diagram {
  const mid = opts.y ? 30 : 40;
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const z = node(4, mid, 'z', 'data');
  nodes.push(z);
  let gx = 48;
  let into = right(z);
  let gap = 72;
  if (opts.mapping) {
    const map = node(36, mid, 'map', 'aux', 'MLP', 38);
    const w = node(86, mid, 'w', 'data', undefined, 20);
    nodes.push(map, w);
    edges.push(line(right(z), left(map)), line(right(map), left(w)));
    into = right(w);
    gx = 116;
    gap = 56;
  }
  const g = node(gx, mid, 'G', 'g', opts.gSub);
  const fake = node(gx + gap, mid, 'x̃', 'fake');
  const dx = gx + gap + 46;
  const d = node(dx, mid, opts.dLabel ?? 'D', 'd', opts.dSub, opts.autoencoder ? 64 : 50);
  const real = node(dx + d.w / 2 - 13, 2, 'x', 'data');
  nodes.push(g, fake, d, real);
  edges.push(line(into, left(g)), line(right(g), left(fake)), line(right(fake), left(d)), line(bottom(real), top(d)));
  if (opts.mapping) edges.push({ d: `M${gx + 25},${mid - 14} L${gx + 25},${mid - 1}`, label: { x: gx + 25, y: mid - 17, text: 'noise' } });
  const verdictX = d.x + d.w + 6;
  edges.push({ d: `M${verdictX - 6},${mid + 12} L${verdictX + 8},${mid + 12}`, label: { x: verdictX + 10, y: mid + 16, text: opts.verdict } });
  if (opts.y) {
    const y = node(gx - 4 + 58, 68, 'y', 'data', undefined, 22);
    nodes.push(y);
    edges.push(elbow(left(y), bottom(g)), elbow(right(y), bottom(d)));
  }
  return { nodes, edges, caption: '' };
}

/** On 2-D points the two-player families use small MLPs instead of convolutions. */
export function familyDiagram(family: Family, points = false): Diagram {
  const d = convDiagram(family);
  if (!points || !['dcgan', 'wgan', 'wgan-gp', 'lsgan'].includes(family)) return d;
  return { ...d, nodes: d.nodes.map((n) => (n.kind === 'g' || n.kind === 'd' ? { ...n, sub: n.sub === undefined || n.sub === 'deconv' || n.sub === 'conv' ? 'MLP' : `MLP, ${n.sub}` } : n)) };
}

function convDiagram(family: Family): Diagram {
  switch (family) {
    case 'dcgan':
      return { ...twoPlayer({ gSub: 'deconv', dSub: 'conv', verdict: 'real / fake' }), caption: 'z → G → x̃; D tells x̃ from real x' };
    case 'lsgan':
      return { ...twoPlayer({ verdict: '(D − 1)²' }), caption: 'D regresses real to 1, fake to 0 (least squares)' };
    case 'wgan':
      return { ...twoPlayer({ dLabel: 'critic', dSub: 'clipped', verdict: 'score' }), caption: 'a weight-clipped critic scores x and x̃' };
    case 'wgan-gp':
      return { ...twoPlayer({ dLabel: 'critic', dSub: '+ GP', verdict: 'score' }), caption: 'critic kept 1-Lipschitz by a gradient penalty' };
    case 'sagan':
      return { ...twoPlayer({ gSub: '+ attn, SN', dSub: '+ attn, SN', verdict: 'hinge' }), caption: 'self-attention and spectral norm in G and D' };
    case 'cgan':
      return { ...twoPlayer({ verdict: 'real / fake', y: true }), caption: 'the label y goes into G and D' };
    case 'ebgan':
      return { ...twoPlayer({ dLabel: 'D = AE', dSub: 'enc → dec', verdict: 'energy', autoencoder: true }), caption: 'D is an autoencoder; its error is the energy' };
    case 'began':
      return { ...twoPlayer({ dLabel: 'D = AE', dSub: 'enc → dec', verdict: 'L(x) − k·L(x̃)', autoencoder: true }), caption: 'autoencoder D balanced by k_t' };
    case 'stylegan':
      return { ...twoPlayer({ gSub: 'synthesis', verdict: 'real/fake', mapping: true }), caption: 'mapping network z → w styles every layer' };
    case 'pix2pix': {
      const a = node(4, 40, 'A', 'data');
      const g = node(46, 40, 'U-Net', 'g', 'G');
      const fake = node(118, 40, 'B̃', 'fake');
      const d = node(170, 40, 'PatchGAN', 'd', 'D on (A, B)', 62);
      const real = node(188, 2, 'B', 'data');
      return {
        nodes: [a, g, fake, d, real],
        edges: [
          line(right(a), left(g)),
          line(right(g), left(fake)),
          line(right(fake), left(d)),
          line(bottom(real), top(d)),
          { d: `M17,64 L17,84 L201,84 L201,65`, label: { x: 100, y: 81, text: 'A' } },
          { d: `M238,52 L252,52`, label: { x: 254, y: 56, text: 'patches' } },
        ],
        caption: 'A → U-Net → B̃; PatchGAN judges (A, B) pairs, + L1',
      };
    }
    case 'cyclegan': {
      const a = node(4, 36, 'A', 'data');
      const b = node(290, 36, 'B', 'data');
      const gab = node(135, 4, 'G_AB', 'g');
      const gba = node(135, 68, 'G_BA', 'g');
      const da = node(50, 36, 'D_A', 'd', undefined, 44);
      const db = node(226, 36, 'D_B', 'd', undefined, 44);
      return {
        nodes: [a, b, gab, gba, da, db],
        edges: [
          { d: 'M17,35 L17,16 L134,16' },
          { d: 'M186,16 L303,16 L303,35' },
          { d: 'M303,61 L303,80 L186,80' },
          { d: 'M134,80 L17,80 L17,61' },
          line(right(a), left(da)),
          { d: 'M289,48 L271,48' },
          { d: 'M160,29 L160,67', dashed: true, label: { x: 166, y: 52, text: 'cycle' } },
        ],
        caption: 'two generators in a cycle, a discriminator per domain',
      };
    }
  }
}
