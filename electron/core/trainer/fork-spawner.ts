// TrainerSpawner for plain Node (CLI, browser mode, tests): `child_process.fork` of the TypeScript
// entry through the tsx loader, resolved to an absolute URL so it works from any working folder.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrainerProcess, TrainerSpawner } from './trainer-process.ts';

export const TRAINER_ENTRY = fileURLToPath(new URL('./trainer-main.ts', import.meta.url));

export const forkTrainer: TrainerSpawner = ({ env }) => {
  const child = fork(TRAINER_ENTRY, [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    env: { ...process.env, ...env },
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // A send racing the trainer's exit fails with EPIPE; the exit itself is reported through
  // onExit, so such errors must not crash the host. A process that never started has no exit
  // event: report one, with the error on stderr, so the run is marked with the reason.
  const exitListeners: ((e: { code: number | null; signal: string | null }) => void)[] = [];
  const stderrListeners: ((text: string) => void)[] = [];
  child.on('error', (err) => {
    if (child.pid !== undefined) return;
    for (const l of stderrListeners) l(`could not start the trainer: ${err.message}\n`);
    for (const l of exitListeners) l({ code: -1, signal: null });
  });
  const proc: TrainerProcess = {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (child.connected) child.send(message, () => undefined);
    },
    onMessage(listener) {
      child.on('message', listener);
    },
    onExit(listener) {
      exitListeners.push(listener);
      child.on('exit', (code, signal) => listener({ code, signal }));
    },
    onStderr(listener) {
      stderrListeners.push(listener);
      // stdout too: a trainer never owns the terminal (the CLI's --json output must stay clean).
      for (const stream of [child.stdout, child.stderr]) {
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => listener(chunk));
      }
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  return proc;
};
