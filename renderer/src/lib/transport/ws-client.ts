// The API client for browser mode: one WebSocket to the server that served this page. The browser
// attaches the session cookie and the Origin header itself; the server checks both. Calls made
// while disconnected wait in a queue; calls already sent when the socket drops are rejected (they
// may have run, and a blind resend could start a run twice).
import type { ApiClient, MethodInput, MethodName, MethodOutput, StudioEvent } from '../../../../electron/common/api.ts';
import { ApiError } from '../../../../electron/common/errors.ts';
import { WS_PATH } from '../../../../electron/common/wire.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** What the UI needs beyond calls and events: whether anyone is listening on the other end. */
export interface StudioClient extends ApiClient {
  readonly connectionState: ConnectionState;
  /** called at once with the current state, then on every change; returns an unsubscribe function */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
  /** stops reconnecting and rejects every pending call */
  close(): void;
}

/** The part of the DOM WebSocket used here, so tests can pass another implementation. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export interface WsClientOptions {
  createSocket?: WebSocketFactory;
  /** first reconnect delay; doubles up to `maxBackoffMs`, with jitter */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** how long a call may wait for a connection before it is rejected */
  queueTimeoutMs?: number;
}

const OPEN = 1;

interface Pending {
  resolve(value: unknown): void;
  reject(error: ApiError): void;
}
interface Queued extends Pending {
  text: string;
  id: number;
  timer: ReturnType<typeof setTimeout>;
}

function defaultUrl(): string {
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!location) throw new Error('createWsClient needs a URL outside a browser page');
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${WS_PATH}`;
}

function defaultFactory(): WebSocketFactory {
  const Impl = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Impl) throw new Error('no WebSocket implementation in this environment');
  return (url) => new Impl(url);
}

function disconnected(message: string): ApiError {
  return new ApiError('internal', message, { reason: 'disconnected' });
}

export function createWsClient(url?: string, options: WsClientOptions = {}): StudioClient {
  const target = url ?? defaultUrl();
  const createSocket = options.createSocket ?? defaultFactory();
  const initialBackoff = options.initialBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 10_000;
  const queueTimeout = options.queueTimeoutMs ?? 60_000;

  let socket: WebSocketLike | null = null;
  let state: ConnectionState = 'connecting';
  let backoff = initialBackoff;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  let nextId = 1;
  const sent = new Map<number, Pending>();
  const queue: Queued[] = [];
  const eventListeners = new Set<(event: StudioEvent) => void>();
  const stateListeners = new Set<(state: ConnectionState) => void>();

  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    for (const listener of [...stateListeners]) {
      try {
        listener(next);
      } catch (err) {
        console.error('connection listener threw', err);
      }
    }
  };

  const flush = (): void => {
    while (queue.length > 0 && socket && socket.readyState === OPEN) {
      const call = queue.shift()!;
      clearTimeout(call.timer);
      sent.set(call.id, call);
      socket.send(call.text);
    }
  };

  const onMessage = (data: unknown): void => {
    if (typeof data !== 'string') return;
    let frame: { kind?: unknown; id?: unknown; ok?: unknown; output?: unknown; error?: unknown; event?: unknown };
    try {
      frame = JSON.parse(data) as typeof frame;
    } catch {
      return;
    }
    if (frame.kind === 'result' && typeof frame.id === 'number') {
      const pending = sent.get(frame.id);
      if (!pending) return;
      sent.delete(frame.id);
      if (frame.ok === true) pending.resolve(frame.output);
      else pending.reject(ApiError.from(frame.error));
    } else if (frame.kind === 'event') {
      for (const listener of [...eventListeners]) {
        try {
          listener(frame.event as StudioEvent);
        } catch (err) {
          console.error('event listener threw', err);
        }
      }
    }
  };

  const scheduleReconnect = (): void => {
    if (stopped || reconnectTimer) return;
    const delay = backoff * (0.75 + Math.random() * 0.5);
    backoff = Math.min(backoff * 2, maxBackoff);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delay);
  };

  const connect = (): void => {
    if (stopped) return;
    setState('connecting');
    let ws: WebSocketLike;
    try {
      ws = createSocket(target);
    } catch {
      setState('closed');
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      backoff = initialBackoff;
      setState('open');
      flush();
    };
    ws.onmessage = (event) => {
      if (socket === ws) onMessage(event.data);
    };
    ws.onerror = () => {
      // 'close' always follows; the browser gives no reason here (a rejected upgrade looks the same).
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      const lost = [...sent.values()];
      sent.clear();
      for (const call of lost) call.reject(disconnected('the connection to GAN Studio was lost before the answer came'));
      setState('closed');
      scheduleReconnect();
    };
  };

  const call = <M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> =>
    new Promise<MethodOutput<M>>((resolve, reject) => {
      if (stopped) return reject(disconnected('the client is closed'));
      const id = nextId++;
      let text: string;
      try {
        text = JSON.stringify({ kind: 'call', id, method, input });
      } catch (err) {
        return reject(new ApiError('invalid_input', `invalid input for ${method}: ${err instanceof Error ? err.message : 'not serialisable'}`));
      }
      const timer = setTimeout(() => {
        const at = queue.findIndex((q) => q.id === id);
        if (at >= 0) queue.splice(at, 1);
        reject(disconnected(`GAN Studio did not answer: not connected after ${Math.round(queueTimeout / 1000)} s`));
      }, queueTimeout);
      queue.push({ id, text, timer, resolve: resolve as (value: unknown) => void, reject });
      flush();
    });

  connect();

  return {
    call,
    subscribe(listener) {
      eventListeners.add(listener);
      return () => void eventListeners.delete(listener);
    },
    get connectionState() {
      return state;
    },
    onConnectionChange(listener) {
      stateListeners.add(listener);
      listener(state);
      return () => void stateListeners.delete(listener);
    },
    close() {
      if (stopped) return;
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const ws = socket;
      socket = null;
      ws?.close(1000, 'client closed');
      const error = disconnected('the client is closed');
      for (const q of queue.splice(0)) {
        clearTimeout(q.timer);
        q.reject(error);
      }
      for (const p of sent.values()) p.reject(error);
      sent.clear();
      setState('closed');
    },
  };
}
