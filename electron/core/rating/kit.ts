// The offline rater kit: a folder with a static page (index.html and kit.css from
// resources/rater-kit; kit.js bundled by scripts/build-kit.mjs from renderer/src/rater-kit/kit.ts
// into dist/rater-kit), the session's images and a manifest (as manifest.js for file:// pages, and
// manifest.json) carrying the item list hash and a signature, written into a temp folder and
// renamed into place. Its answers file comes back through `parseKitAnswers`, and the service
// checks it against the session before storing it in one transaction. The manifest and answers
// formats are shared with the page in electron/common/rater-kit.ts.
import path from 'node:path';
import crypto from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { RATING_TYPES, RATING_TYPE_INFO, RatingAnswerValueSchema, type RatingSession } from '../../common/api-rating.ts';
import { ApiError, invalidInput } from '../../common/errors.ts';
import { ANSWERS_FORMAT, ANSWERS_VERSION, KIT_FORMAT, KIT_VERSION, obscureTruth, type KitItem, type KitManifest } from '../../common/rater-kit.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { fsyncDir, sha256, writeFileDurable } from '../util/atomic-fs.ts';
import type { ItemRow } from './model.ts';

export { ANSWERS_FORMAT, KIT_FORMAT };
export const KIT_STATIC_DIR = path.join(PROJECT_ROOT, 'resources', 'rater-kit');
const STATIC_FILES = ['index.html', 'kit.css'] as const;
/** The page script, built from TypeScript by `npm run build:renderer` (scripts/build-kit.mjs). */
export const KIT_SCRIPT = path.join(PROJECT_ROOT, 'dist', 'rater-kit', 'kit.js');

/** The signature binds the kit (and its answers) to a session, a rater and the exact item list. */
export function kitSignature(sessionId: string, rater: string, itemsHash: string): string {
  return sha256(`${KIT_FORMAT}\n${sessionId}\n${rater}\n${itemsHash}`);
}

export interface KitExport {
  session: RatingSession;
  rater: string;
  order: string[];
  items: ItemRow[];
  imageDir: string;
  target: string;
  /** the built page script; KIT_SCRIPT unless a test points elsewhere */
  script?: string;
}

export async function exportRaterKit(k: KitExport): Promise<{ path: string; files: number; bytes: number; itemsHash: string }> {
  const { session, rater } = k;
  const byId = new Map(k.items.map((i) => [i.itemId, i]));
  const salt = crypto.randomBytes(8).toString('hex');
  const timed = session.type === 'timed_real_fake';
  // blocks get opaque names in the kit: a source id would say which generator an item came from
  const blockNames = new Map<string, string>();
  const manifest: KitManifest = {
    format: KIT_FORMAT,
    version: KIT_VERSION,
    sessionId: session.id,
    type: session.type,
    // the type, not the session name: a default name lists the runs and datasets, and the kit is blinded
    title: RATING_TYPE_INFO[session.type].label,
    question: session.question,
    keys: RATING_TYPE_INFO[session.type].keys,
    rater,
    itemsHash: session.itemsHash,
    signature: kitSignature(session.id, rater, session.itemsHash),
    breakEvery: session.breakEvery,
    staircase: timed ? session.staircase : null,
    salt: timed ? salt : '',
    items: k.order.map((id) => {
      const it = byId.get(id)!;
      const entry: KitItem = { itemId: id, files: it.files };
      if (timed && it.truth.kind === 'real_fake') {
        const block = it.truth.block;
        if (block !== null && !blockNames.has(block)) blockNames.set(block, `b${blockNames.size}${crypto.randomBytes(3).toString('hex')}`);
        entry.block = block === null ? null : blockNames.get(block)!;
        // the truth bit, xor-obscured so the staircase can run offline (obscured, not secret)
        entry.t = obscureTruth(id, salt, it.truth.truth);
      }
      return entry;
    }),
  };
  // the page script first: without it there is no kit to write
  const scriptPath = k.script ?? KIT_SCRIPT;
  const script = await fsp.readFile(scriptPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ApiError('internal', `the rater kit's page script ${scriptPath} has not been built: run npm run build:renderer`);
    throw new ApiError('internal', `cannot read the rater kit's page script ${scriptPath}: ${err.message}`);
  });
  const target = path.resolve(k.target);
  const parent = path.dirname(target);
  await fsp.mkdir(parent, { recursive: true });
  // a new folder, an empty one, or an earlier kit (replaced whole); never someone's other files
  const existing = await fsp.stat(target).catch(() => null);
  if (existing) {
    if (!existing.isDirectory()) throw new ApiError('conflict', `${target} exists and is a file; choose an empty or new folder for the rater kit`);
    const isKit = await fsp.stat(path.join(target, 'manifest.json')).then(
      () => true,
      () => false,
    );
    if (!isKit && (await fsp.readdir(target)).length > 0) throw new ApiError('conflict', `${target} already exists, is not empty and is not a rater kit; choose an empty or new folder`);
  }
  const tmp = `${target}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  let files = 0;
  let bytes = 0;
  try {
    await fsp.mkdir(path.join(tmp, 'img'), { recursive: true });
    const put = async (rel: string, data: Uint8Array | string) => {
      await writeFileDurable(path.join(tmp, rel), data);
      files++;
      bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    };
    for (const f of STATIC_FILES) {
      const data = await fsp.readFile(path.join(KIT_STATIC_DIR, f)).catch(() => {
        throw new ApiError('internal', `the rater kit file ${f} is missing from ${KIT_STATIC_DIR}`);
      });
      await put(f, data);
    }
    await put('kit.js', script);
    const json = JSON.stringify(manifest, null, 1);
    await put('manifest.json', json);
    await put('manifest.js', `window.RATER_KIT = ${json.replace(/</g, '\\u003c')};\n`);
    const names = new Set(manifest.items.flatMap((i) => i.files));
    for (const n of names) await put(path.join('img', n), await fsp.readFile(path.join(k.imageDir, n)));
    await fsyncDir(path.join(tmp, 'img'));
    await fsyncDir(tmp);
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.rename(tmp, target);
    await fsyncDir(parent);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { path: target, files, bytes, itemsHash: session.itemsHash };
}

export const KitAnswersSchema = z.object({
  format: z.literal(ANSWERS_FORMAT, { message: `not a GAN Studio answers file (format must be "${ANSWERS_FORMAT}")` }),
  version: z.literal(ANSWERS_VERSION),
  sessionId: z.string().min(1).max(100),
  type: z.enum(RATING_TYPES),
  rater: z.string().min(1).max(60),
  itemsHash: z.string().regex(/^[0-9a-f]{64}$/, 'itemsHash must be a sha256 hex digest'),
  signature: z.string().regex(/^[0-9a-f]{64}$/, 'signature must be a sha256 hex digest'),
  finished: z.boolean().default(false),
  answers: z
    .array(
      z.object({
        itemId: z.string().min(1).max(100),
        answer: RatingAnswerValueSchema,
        responseMs: z.number().min(0).max(24 * 3600_000),
        exposureMs: z.number().min(0).max(60_000).optional(),
        answeredAt: z.number().int().optional(),
      }),
    )
    .max(20_000),
});
export type KitAnswers = z.output<typeof KitAnswersSchema>;

/** Parses and checks an answers file on its own (format, shape, signature, no item twice). */
export function parseKitAnswers(text: string): KitAnswers {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ApiError('invalid_input', `the answers file is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = KitAnswersSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(parsed.error, 'the answers file is malformed');
  const a = parsed.data;
  if (a.signature !== kitSignature(a.sessionId, a.rater, a.itemsHash)) {
    throw new ApiError('invalid_input', `the answers file's signature does not match its session ${a.sessionId}, rater "${a.rater}" and item list; it was edited or belongs to another kit`);
  }
  const seen = new Set<string>();
  for (const x of a.answers) {
    if (seen.has(x.itemId)) throw new ApiError('invalid_input', `the answers file answers item ${x.itemId} twice`);
    seen.add(x.itemId);
  }
  return a;
}
