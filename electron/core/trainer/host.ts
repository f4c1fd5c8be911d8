// TrainerHost supervises one trainer process (RELIABILITY B1–B4): it validates every message,
// watches the heartbeat, turns an exit without a `done` message into a crash with a reason a
// person can read, and terminates a hung trainer (TERM, grace, KILL).
import { TrainerToHostSchema, type HostToTrainer, type TrainerToHost } from '../../common/trainer-protocol.ts';
import type { TrainerExit, TrainerProcess, TrainerSpawner } from './trainer-process.ts';

export interface SupervisionOptions {
  /** no message for this long (and longer than a few observed step times) means hung */
  heartbeatTimeoutMs: number;
  /** after SIGTERM, wait this long before SIGKILL */
  killGraceMs: number;
}

export const DEFAULT_SUPERVISION: SupervisionOptions = { heartbeatTimeoutMs: 120_000, killGraceMs: 5_000 };

export interface CrashInfo {
  reason: string;
  exit: TrainerExit;
  hung: boolean;
  /** the trainer most likely ran out of memory */
  oom: boolean;
}

export interface TrainerHostHandlers {
  onMessage(message: TrainerToHost): void;
  /** the process ended without reporting `done` */
  onCrash(info: CrashInfo): void;
  /** the process is gone (after done or crash) */
  onExit(exit: TrainerExit): void;
  onInvalidMessage?(problem: string): void;
}

const STDERR_TAIL = 4000;
// Noise every tfjs process prints; not a crash reason.
const NOISE = /^(=+|Hi, looks like you are running TensorFlow\.js in Node\.js.*|.*visit https:\/\/github\.com\/tensorflow\/tfjs-node.*)$/;

export class TrainerHost {
  readonly #proc: TrainerProcess;
  readonly #handlers: TrainerHostHandlers;
  readonly #opts: SupervisionOptions;
  #stderr = '';
  #lastMessageAt = Date.now();
  #done = false;
  #exited = false;
  #hung = false;
  #watchdog: NodeJS.Timeout;
  #killTimer: NodeJS.Timeout | null = null;
  #lastProgress: { at: number; step: number } | null = null;
  #msPerStep = 0;

  constructor(spawn: TrainerSpawner, handlers: TrainerHostHandlers, opts: Partial<SupervisionOptions> = {}, env?: Record<string, string>) {
    this.#handlers = handlers;
    this.#opts = { ...DEFAULT_SUPERVISION, ...opts };
    this.#proc = spawn({ env });
    this.#proc.onStderr((text) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
    });
    this.#proc.onMessage((raw) => this.#receive(raw));
    this.#proc.onExit((exit) => this.#exit(exit));
    this.#watchdog = setInterval(() => this.#checkHeartbeat(), Math.min(1000, this.#opts.heartbeatTimeoutMs / 4));
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  send(message: HostToTrainer): void {
    if (!this.#exited) this.#proc.send(message);
  }

  /** TERM now, KILL after the grace period if it is still there. */
  terminate(): void {
    if (this.#exited) return;
    this.#proc.kill('SIGTERM');
    this.#killTimer ??= setTimeout(() => this.#proc.kill('SIGKILL'), this.#opts.killGraceMs);
  }

  kill(): void {
    if (!this.#exited) this.#proc.kill('SIGKILL');
  }

  #receive(raw: unknown): void {
    this.#lastMessageAt = Date.now();
    const parsed = TrainerToHostSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.#handlers.onInvalidMessage?.(`malformed trainer message (${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'})`);
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'progress') {
      const now = Date.now();
      if (this.#lastProgress && msg.step > this.#lastProgress.step) this.#msPerStep = (now - this.#lastProgress.at) / (msg.step - this.#lastProgress.step);
      this.#lastProgress = { at: now, step: msg.step };
    }
    if (msg.type === 'done') this.#done = true;
    this.#handlers.onMessage(msg);
  }

  #checkHeartbeat(): void {
    if (this.#exited || this.#hung) return;
    // One slow step (a big model on the pure-JS backend) blocks the trainer's timers; allow for it.
    const limit = Math.max(this.#opts.heartbeatTimeoutMs, 3 * this.#msPerStep);
    const silent = Date.now() - this.#lastMessageAt;
    if (silent > limit) {
      this.#hung = true;
      this.#stderr += `\n[supervisor] no heartbeat for ${(silent / 1000).toFixed(1)} s: terminating the trainer`;
      this.terminate();
    }
  }

  #exit(exit: TrainerExit): void {
    if (this.#exited) return;
    this.#exited = true;
    clearInterval(this.#watchdog);
    if (this.#killTimer) clearTimeout(this.#killTimer);
    if (!this.#done) this.#handlers.onCrash(this.#describeCrash(exit));
    this.#handlers.onExit(exit);
  }

  #describeCrash(exit: TrainerExit): CrashInfo {
    const tail = this.#stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !NOISE.test(l));
    const oom = tail.some((l) => /heap out of memory|Cannot allocate memory|std::bad_alloc|OOM|out of memory/i.test(l)) || exit.signal === 'SIGKILL' && tail.some((l) => /memory/i.test(l));
    let reason: string;
    if (this.#hung) reason = `the trainer stopped responding (no heartbeat for over ${Math.round(Math.max(this.#opts.heartbeatTimeoutMs, 3 * this.#msPerStep) / 1000)} s) and was terminated`;
    else if (exit.signal) reason = `the trainer process was killed by ${exit.signal}`;
    else reason = `the trainer process exited with code ${exit.code} without finishing`;
    if (oom) reason += ' (it ran out of memory: try a smaller batch size)';
    const last = tail.filter((l) => !l.startsWith('[supervisor]')).slice(-3).join(' | ');
    if (last) reason += `; last output: ${last.slice(0, 600)}`;
    return { reason, exit, hung: this.#hung, oom };
  }
}
