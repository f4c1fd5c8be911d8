// Picks the fastest TensorFlow.js backend that loads, in order: tensorflow via tfjs-node-gpu
// (CUDA), tensorflow via tfjs-node (native CPU), wasm (with the training kernels the project
// supplies), cpu. The reason every faster backend was skipped is kept for the user and the run.
import { createRequire } from 'node:module';
import type { BackendChoice } from '../../common/config.ts';
import type { BackendReport } from '../../common/api.ts';

import type * as TfModule from '@tensorflow/tfjs';

type Tf = typeof TfModule;

interface Skip {
  provider: string;
  reason: string;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n').find((l) => l.trim().length > 0)?.trim() ?? msg;
}

/** Turns a failed dynamic import of a native tfjs package into a sentence a user can act on. */
export function explainNativeFailure(pkg: string, err: unknown): string {
  const code = (err as { code?: string }).code;
  const msg = firstLine(err);
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module) '@tensorflow\/tfjs-node/.test(msg)) {
    return `${pkg} is not installed (it is optional: its install step downloads libtensorflow, which failed or was skipped)`;
  }
  const lib = /(lib[\w.+-]+\.so(?:\.\d+)*)/.exec(msg)?.[1];
  if (lib) return `${pkg} could not load ${lib}: ${msg}`;
  return `${pkg} failed to load: ${msg}`;
}

/** Whether a native tfjs package is installed (not whether it loads: that needs the trainer). */
export function nativePackageInstalled(): boolean {
  const require = createRequire(import.meta.url);
  return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node', skipped: Skip[]): Promise<boolean> {
  if (process.env.GAN_STUDIO_SKIP_NATIVE === '1') {
    skipped.push({ provider: pkg, reason: 'disabled by GAN_STUDIO_SKIP_NATIVE=1' });
    return false;
  }
  try {
    await import(pkg);
    return true;
  } catch (err) {
    skipped.push({ provider: pkg, reason: explainNativeFailure(pkg, err) });
    return false;
  }
}

async function tryWasm(tf: Tf, skipped: Skip[]): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const kernels = await import('../tf/wasm-kernels.ts');
    kernels.registerWasmTrainingKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
    await tf.ready();
    return true;
  } catch (err) {
    skipped.push({ provider: '@tensorflow/tfjs-backend-wasm', reason: `wasm backend failed to start: ${firstLine(err)}` });
    return false;
  }
}

/**
 * Loads and activates a backend. `choice` forces one (`tensorflow` tries the GPU package, then
 * the CPU one); a forced backend that fails is an error naming the reason, not a silent fallback.
 */
export async function selectBackend(choice: BackendChoice): Promise<{ tf: Tf; report: BackendReport }> {
  const skipped: Skip[] = [];
  const forced = choice !== 'auto';
  let provider: string | null = null;
  if (choice === 'auto' || choice === 'tensorflow') {
    if (await tryNative('@tensorflow/tfjs-node-gpu', skipped)) provider = '@tensorflow/tfjs-node-gpu';
    else if (await tryNative('@tensorflow/tfjs-node', skipped)) provider = '@tensorflow/tfjs-node';
  }
  // Importing the umbrella package registers every gradient and the cpu backend.
  const tf: Tf = await import('@tensorflow/tfjs');
  const { registerSecondOrderGradients } = await import('../tf/gradients.ts');
  registerSecondOrderGradients();
  if (provider) {
    await tf.setBackend('tensorflow');
    await tf.ready();
    return { tf, report: { name: 'tensorflow', provider, device: provider.endsWith('-gpu') ? 'gpu' : 'cpu', skipped, forced } };
  }
  if (choice === 'tensorflow') throw new Error(`backend "tensorflow" was requested but is not available: ${skipped.map((s) => s.reason).join('; ')}`);
  if (choice === 'auto' || choice === 'wasm') {
    if (await tryWasm(tf, skipped)) return { tf, report: { name: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', device: 'cpu', skipped, forced } };
    if (choice === 'wasm') throw new Error(`backend "wasm" was requested but failed: ${skipped.at(-1)?.reason}`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, report: { name: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', device: 'cpu', skipped, forced } };
}
