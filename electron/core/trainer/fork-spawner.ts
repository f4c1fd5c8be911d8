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
  const proc: TrainerProcess = {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (child.connected) child.send(message);
    },
    onMessage(listener) {
      child.on('message', listener);
    },
    onExit(listener) {
      child.on('exit', (code, signal) => listener({ code, signal }));
    },
    onStderr(listener) {
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
