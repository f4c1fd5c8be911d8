// Zero gradients for comparison kernels. tfjs-core leaves most of them without a gradient, which
// breaks tf.grad of a gradient (WGAN-GP, R1) as soon as the inner backward pass uses a mask such as
// LeakyReLU's `greater(x, 0)`. A comparison is piecewise constant, so zero is its exact derivative.
import { getGradient, registerGradient, zeros } from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';

const COMPARISON_KERNELS = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual'] as const;

/** Registers zero gradients for comparison kernels that have none. Idempotent, backend-agnostic. */
export function registerSecondOrderGradients(): void {
  for (const kernelName of COMPARISON_KERNELS) {
    if (getGradient(kernelName) != null) continue;
    registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [a, b] = saved;
        return { a: () => zeros(a.shape), b: () => zeros(b.shape) };
      },
    });
  }
}
