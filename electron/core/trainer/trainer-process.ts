// The one seam between the core and a trainer process. In plain Node (CLI, browser mode, tests) a
// trainer is a `child_process.fork`; in Electron a `utilityProcess` (RunAsNode is fused off, so
// forking the Electron binary is not possible). Both sides speak the messages in
// electron/common/trainer-protocol.ts; the supervisor (TrainerHost) validates everything it gets.
import type { HostToTrainer } from '../../common/trainer-protocol.ts';

export interface TrainerExit {
  code: number | null;
  signal: string | null;
}

export interface TrainerProcess {
  readonly pid: number | undefined;
  send(message: HostToTrainer): void;
  /** raw, unvalidated messages from the trainer */
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (exit: TrainerExit) => void): void;
  /** lines the trainer wrote to stderr (crash reasons, native library errors) */
  onStderr(listener: (text: string) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts a new trainer process. `env` is merged over the parent's environment. */
export type TrainerSpawner = (options: { env?: Record<string, string> }) => TrainerProcess;
