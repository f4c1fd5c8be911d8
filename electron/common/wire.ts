// Frames of the WebSocket transport (browser mode). Electron IPC uses one channel per method
// instead; the in-memory transport calls the handler directly.
import { z } from 'zod';
import type { ApiErrorShape } from './errors.ts';

export const ClientFrameSchema = z.object({
  kind: z.literal('call'),
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  method: z.string().max(100),
  input: z.unknown(),
});
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

export type ServerFrame =
  | { kind: 'result'; id: number; ok: true; output: unknown }
  | { kind: 'result'; id: number; ok: false; error: z.infer<typeof ApiErrorShape> }
  | { kind: 'event'; event: unknown };

/** Path of the WebSocket endpoint on the browser-mode server. */
export const WS_PATH = '/api/ws';
