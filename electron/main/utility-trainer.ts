// TrainerSpawner for Electron: RunAsNode is fused off (RELIABILITY A7), so `child_process.fork` of
// the Electron binary is impossible; the trainer runs in a `utilityProcess` instead and reads
// `process.parentPort`. Electron is injected (types only), so the adapter is tested in Node.
import type { ForkOptions, UtilityProcess } from 'electron';
import type { HostToTrainer } from '../common/trainer-protocol.ts';
import type { TrainerExit, TrainerProcess, TrainerSpawner } from '../core/trainer/trainer-process.ts';

export type UtilityFork = (modulePath: string, args?: string[], options?: ForkOptions) => UtilityProcess;

export const TRAINER_SERVICE_NAME = 'GAN Studio trainer';

/** `entry` is the bundled trainer (dist/electron/trainer.cjs, inside the asar when packaged). */
export function createUtilityTrainerSpawner(fork: UtilityFork, entry: string): TrainerSpawner {
  return ({ env }) => {
    const child = fork(entry, [], {
      serviceName: TRAINER_SERVICE_NAME,
      stdio: 'pipe',
      env: { ...process.env, ...env },
    });
    // Pipes must be drained or a chatty trainer blocks on a full pipe.
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(`[trainer] ${chunk.toString('utf8')}`));
    const stderrListeners: Array<(text: string) => void> = [];
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      for (const listener of stderrListeners) listener(text);
    });
    let exited = false;
    const exitListeners: Array<(exit: TrainerExit) => void> = [];
    child.on('exit', (code: number) => {
      exited = true;
      // utilityProcess reports only a code; a signal death shows as a non-zero code.
      for (const listener of exitListeners) listener({ code, signal: null });
    });
    const trainer: TrainerProcess = {
      get pid() {
        return child.pid;
      },
      send(message: HostToTrainer) {
        if (!exited) child.postMessage(message);
      },
      onMessage(listener) {
        child.on('message', (message: unknown) => listener(message));
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      onStderr(listener) {
        stderrListeners.push(listener);
      },
      kill(signal) {
        if (exited) return;
        // utilityProcess.kill() only sends SIGTERM; the supervisor's SIGKILL after the grace
        // period has to go through the pid.
        if (signal && signal !== 'SIGTERM' && child.pid !== undefined) {
          try {
            process.kill(child.pid, signal);
            return;
          } catch {
            // already gone, or not permitted: fall back to Electron's kill
          }
        }
        child.kill();
      },
    };
    return trainer;
  };
}
