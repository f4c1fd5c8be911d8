// Browser mode (RELIABILITY C1–C6): the built renderer over HTTP and the API over a WebSocket, on
// 127.0.0.1 only. Any local process and any web page the user visits can reach a loopback port, so
// every request must prove it came from the person who started the server: the Host header
// (DNS rebinding), a per-launch token exchanged for an HttpOnly cookie, and the WebSocket Origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import { TRANSPORT_LIMITS } from '../../common/api.ts';
import type { ApiImplementation, EventSource, StudioEvent } from '../../common/api.ts';
import { ClientFrameSchema, WS_PATH } from '../../common/wire.ts';
import { UPLOAD_PATH } from '../../common/upload.ts';
import type { ServerFrame } from '../../common/wire.ts';
import { invalidInput } from '../../common/errors.ts';
import { createApiHandler } from './api-handler.ts';
import type { ApiHandlerOptions } from './api-handler.ts';
import { resolveInside } from './safe-path.ts';
import { cacheControlFor, contentTypeFor, SECURITY_HEADERS } from './security-headers.ts';
import { createZipUploads } from './zip-upload.ts';
import type { UploadOutcome, ZipUploadOptions, ZipUploads } from './zip-upload.ts';

export interface BrowserServerOptions {
  api: ApiImplementation;
  events: EventSource;
  /** the built renderer: index.html + assets */
  staticDir: string;
  /** 0 (the default) picks a free port */
  port?: number;
  /** loopback only; the type leaves no other choice */
  host?: '127.0.0.1';
  validateOutput?: ApiHandlerOptions['validateOutput'];
  onInternalError?: ApiHandlerOptions['onInternalError'];
  /** zip upload (POST ${UPLOAD_PATH}) into this staging folder; without it the endpoint answers 404 */
  uploads?: ZipUploadOptions;
}

export interface BrowserServer {
  /** the launch URL, carrying the token: print it, open it */
  url: string;
  origin: string;
  port: number;
  close(): Promise<void>;
}

/** Past this backlog a socket's client is not keeping up: drop its events rather than grow memory. */
const EVENT_BACKLOG_BYTES = 1024 * 1024;
/** A client this far behind on results is not reading at all. */
const RESULT_BACKLOG_BYTES = 64 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;
const UNAUTHORIZED_PAGE =
  'GAN Studio: this page needs the access token.\nOpen the URL printed in the terminal where you started GAN Studio (it carries the token).\n';

/** Constant-time comparison; a length mismatch still spends one compare so timing says little. */
export function secretsMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** `req.url` is not parsed with `new URL`, which would read `//evil.example/x` as a host. */
function splitTarget(target: string | undefined): { path: string; query: URLSearchParams } | null {
  if (!target || !target.startsWith('/')) return null;
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: new URLSearchParams() } : { path: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) };
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function frameId(json: unknown): number | null {
  if (json && typeof json === 'object' && 'id' in json) {
    const id = (json as { id: unknown }).id;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  }
  return null;
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const bindHost = options.host ?? '127.0.0.1';
  if (bindHost !== '127.0.0.1') throw new Error('the browser-mode server binds 127.0.0.1 only');
  const { api, events, staticDir } = options;
  const handle = createApiHandler(api, { validateOutput: options.validateOutput, onInternalError: options.onInternalError });
  // 256 bits each. The cookie carries its own secret so the launch token never travels in headers.
  const launchToken = randomBytes(32).toString('base64url');
  const sessionSecret = randomBytes(32).toString('base64url');
  let port = 0;
  // Cookies ignore ports: a per-port name keeps two servers on 127.0.0.1 from clobbering each other.
  let cookieName = '';
  let allowedHosts = new Set<string>();
  let closing = false;
  const uploads: ZipUploads | null = options.uploads ? createZipUploads(options.uploads, (input) => handle('datasets.import', input), events) : null;

  const hostOf = (req: IncomingMessage): string | null => {
    const host = req.headers.host?.toLowerCase();
    return host && allowedHosts.has(host) ? host : null;
  };
  const hasSession = (req: IncomingMessage): boolean => cookieValues(req.headers.cookie, cookieName).some((v) => secretsMatch(v, sessionSecret));

  const reply = (req: IncomingMessage, res: ServerResponse, status: number, text: string, close = false): void => {
    const body = Buffer.from(text, 'utf8');
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.setHeader('Cache-Control', 'no-store');
    // A request body we will not read is not worth draining: close the connection instead.
    if (close) res.setHeader('Connection', 'close');
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const replyJson = (res: ServerResponse, outcome: UploadOutcome): void => {
    const body = Buffer.from(JSON.stringify(outcome.body), 'utf8');
    res.statusCode = outcome.status;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.setHeader('Cache-Control', 'no-store');
    if (outcome.close) res.setHeader('Connection', 'close');
    res.end(body);
  };

  /** The one route with a body: same Host and cookie checks as everything else, plus the Origin (CSRF). */
  const onUpload = async (req: IncomingMessage, res: ServerResponse, host: string, query: URLSearchParams): Promise<void> => {
    const refuse = (status: number, code: 'unauthorized' | 'not_found' | 'invalid_input', message: string) => replyJson(res, { status, body: { error: { code, message } }, close: true });
    if (!uploads) return refuse(404, 'not_found', 'uploads are not enabled on this server');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return refuse(405, 'invalid_input', `${req.method} is not allowed here; POST the zip`);
    }
    if (!hasSession(req)) return refuse(401, 'unauthorized', 'this upload needs the session of the page the studio opened (the access token)');
    // The browser sets Origin on every POST; a page of any other origin (or none) may not upload.
    if (req.headers.origin !== `http://${host}`) return refuse(403, 'unauthorized', 'uploads are accepted from the studio page only (wrong Origin)');
    replyJson(res, await uploads.receive(req, query));
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<void> => {
    let resolved = await resolveInside(staticDir, urlPath === '/' ? '/index.html' : urlPath);
    // Client-side routes (no extension) get the app shell; rejected paths never do.
    if (!resolved.ok && resolved.status === 404 && resolved.reason === 'not found' && !/\.[A-Za-z0-9]+$/.test(urlPath)) {
      resolved = await resolveInside(staticDir, '/index.html');
    }
    if (!resolved.ok) return reply(req, res, resolved.status, resolved.status === 400 ? 'Bad request\n' : 'Not found\n');
    const file = resolved.file;
    const info = await stat(file);
    res.statusCode = 200;
    res.setHeader('Content-Type', contentTypeFor(file));
    res.setHeader('Content-Length', info.size);
    res.setHeader('Cache-Control', cacheControlFor(file));
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const host = hostOf(req);
    if (!host) return reply(req, res, 403, 'Forbidden: unexpected Host header\n', true);
    const upload = splitTarget(req.url);
    if (upload?.path === UPLOAD_PATH) return onUpload(req, res, host, upload.query);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return reply(req, res, 405, 'Method not allowed\n', true);
    }
    const declared = req.headers['content-length'];
    if ((declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined) {
      return reply(req, res, 413, 'Request bodies are not accepted\n', true);
    }
    const target = splitTarget(req.url);
    if (!target) return reply(req, res, 400, 'Bad request\n');
    const token = target.query.get('token');
    if (token !== null) {
      if (!secretsMatch(token, launchToken)) return reply(req, res, 401, UNAUTHORIZED_PAGE);
      res.setHeader('Set-Cookie', `${cookieName}=${sessionSecret}; HttpOnly; SameSite=Strict; Path=/`);
      // Drops the token from the address bar and history; always `/`, so never an open redirect.
      res.setHeader('Location', '/');
      return reply(req, res, 302, 'Found\n');
    }
    if (!hasSession(req)) return reply(req, res, 401, UNAUTHORIZED_PAGE);
    if (target.path === WS_PATH) return reply(req, res, 426, 'Upgrade required\n');
    await serveStatic(req, res, target.path);
  };

  const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) reply(req, res, 500, 'Internal error\n', true);
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  // With uploads, a whole request may take minutes: uploads get an idle timeout of their own, and
  // every other route refuses bodies, so its request is complete once its headers are in.
  server.requestTimeout = uploads ? 0 : 30_000;
  // TCP connections in all (a tab keeps ~6 HTTP connections and one WebSocket); WebSockets are
  // capped separately at TRANSPORT_LIMITS.maxConnections below.
  server.maxConnections = TRANSPORT_LIMITS.maxConnections * 4;

  const wss = new WebSocketServer({ noServer: true, maxPayload: TRANSPORT_LIMITS.maxRequestBytes, perMessageDeflate: false });
  const upgraded = new Set<Duplex>();
  const alive = new WeakMap<WebSocket, boolean>();

  const rejectUpgrade = (socket: Duplex, status: number): void => {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (closing) return rejectUpgrade(socket, 503);
    const host = hostOf(req);
    if (!host) return rejectUpgrade(socket, 403);
    const target = splitTarget(req.url);
    if (!target || target.path !== WS_PATH) return rejectUpgrade(socket, 404);
    // The browser sets Origin itself; only our own page (at the Host it used) may open the socket.
    if (req.headers.origin !== `http://${host}`) return rejectUpgrade(socket, 403);
    if (!hasSession(req)) return rejectUpgrade(socket, 401);
    if (upgraded.size >= TRANSPORT_LIMITS.maxConnections) return rejectUpgrade(socket, 503);
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  const send = (ws: WebSocket, frame: ServerFrame): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch {
      if (frame.kind !== 'result') return;
      text = JSON.stringify({ kind: 'result', id: frame.id, ok: false, error: { code: 'internal', message: 'the result could not be serialised' } } satisfies ServerFrame);
    }
    ws.send(text);
  };

  const onFrame = async (ws: WebSocket, text: string): Promise<void> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return ws.close(1007, 'frames are JSON');
    }
    const frame = ClientFrameSchema.safeParse(json);
    if (!frame.success) {
      const id = frameId(json);
      if (id === null) return ws.close(1008, 'invalid frame');
      return send(ws, { kind: 'result', id, ok: false, error: invalidInput(frame.error, 'invalid frame').toJSON() });
    }
    const result = await handle(frame.data.method, frame.data.input);
    if (ws.bufferedAmount > RESULT_BACKLOG_BYTES) return ws.terminate();
    send(ws, result.ok ? { kind: 'result', id: frame.data.id, ok: true, output: result.output } : { kind: 'result', id: frame.data.id, ok: false, error: result.error });
  };

  const onConnection = (ws: WebSocket): void => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const unsubscribe = events.subscribe((event: StudioEvent) => {
      if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > EVENT_BACKLOG_BYTES) return;
      send(ws, { kind: 'event', event });
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      onFrame(ws, rawToString(data)).catch(() => ws.terminate());
    });
    ws.on('close', unsubscribe);
    // `ws` emits 'close' after 'error' (e.g. a frame over maxPayload): nothing else to do here.
    ws.on('error', () => {});
  };

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: bindHost, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  cookieName = `gan_studio_${port}`;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origin = `http://127.0.0.1:${port}`;

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      uploads?.close();
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise((resolve) => setTimeout(resolve, 100).unref());
      for (const ws of wss.clients) ws.terminate();
      for (const socket of upgraded) socket.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    })();
    return closed;
  };

  return { url: `${origin}/?token=${launchToken}`, origin, port, close };
}
