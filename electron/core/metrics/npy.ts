// A strict reader (and a small writer, for tests and benchmarks) of NumPy's .npy format
// (numpy/lib/format.py, "NEP 1"): magic \x93NUMPY, version 1.0 (u16 header length), 2.0 or 3.0
// (u32; 3.0 = UTF-8 header), a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)}
// padded with spaces to a multiple of 64 (16 in old files) and ended by \n, then the raw data.
// Every deviation is an error that names the problem: these files come from user scripts.

export type NpyDtype = '<f4' | '<f8' | '|u1';
export type NpyArray = { dtype: NpyDtype; shape: number[]; data: Float32Array | Float64Array | Uint8Array };

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const ITEM: Record<NpyDtype, number> = { '<f4': 4, '<f8': 8, '|u1': 1 };

/** Parses the header dict literal; only the three keys numpy writes, with their literal forms. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new NpyError(`header is not a dict literal: ${JSON.stringify(t.slice(0, 80))}`);
  let body = t.slice(1, -1).trim();
  const out: { descr?: string; fortran?: boolean; shape?: number[] } = {};
  while (body.length) {
    const key = /^'([a-z_]+)'\s*:\s*/.exec(body);
    if (!key) throw new NpyError(`cannot parse header near ${JSON.stringify(body.slice(0, 40))}`);
    body = body.slice(key[0].length);
    let m: RegExpExecArray | null;
    if (key[1] === 'descr') {
      m = /^'([^']*)'/.exec(body);
      if (!m) throw new NpyError("header 'descr' must be a quoted dtype string such as '<f4' (structured dtypes are not supported)");
      out.descr = m[1];
    } else if (key[1] === 'fortran_order') {
      m = /^(True|False)/.exec(body);
      if (!m) throw new NpyError("header 'fortran_order' must be True or False");
      out.fortran = m[1] === 'True';
    } else if (key[1] === 'shape') {
      m = /^\(\s*((?:\d+\s*,\s*)*\d*)\s*\)/.exec(body);
      if (!m) throw new NpyError("header 'shape' must be a tuple of non-negative integers");
      out.shape = m[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    } else {
      throw new NpyError(`unexpected header key '${key[1]}'`);
    }
    body = body.slice(m[0].length).trim();
    if (body.startsWith(',')) body = body.slice(1).trim();
    else if (body.length) throw new NpyError(`expected ',' in header near ${JSON.stringify(body.slice(0, 40))}`);
  }
  if (out.descr === undefined || out.fortran === undefined || out.shape === undefined) throw new NpyError("header lacks one of 'descr', 'fortran_order', 'shape'");
  return { descr: out.descr, fortran: out.fortran, shape: out.shape };
}

export function parseNpy(bytes: Uint8Array, what = 'file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyError(`${what} is not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) throw new NpyError(`${what}: unsupported .npy version ${major}.${minor} (1.0, 2.0 and 3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError(`${what}: truncated header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  const dataStart = start + headerLen;
  if (dataStart > bytes.length) throw new NpyError(`${what}: header claims ${headerLen} bytes but the file ends first`);
  const raw = bytes.subarray(start, dataStart);
  const text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : String.fromCharCode(...raw);
  if (!text.endsWith('\n')) throw new NpyError(`${what}: header does not end with a newline`);
  const { descr, fortran, shape } = parseHeader(text);
  if (fortran) throw new NpyError(`${what}: fortran_order True is not supported; save a C-ordered array (np.ascontiguousarray)`);
  if (!(descr in ITEM)) {
    const hint = descr === '>f4' || descr === '>f8' ? ' (big-endian; use .astype("<f4"))' : descr === '<f2' ? ' (float16; use .astype(np.float32))' : '';
    throw new NpyError(`${what}: dtype ${descr} is not supported; expected float32 '<f4' (also '<f8', or '|u1' for images)${hint}`);
  }
  const dtype = descr as NpyDtype;
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * ITEM[dtype];
  const have = bytes.length - dataStart;
  if (have !== need) throw new NpyError(`${what}: shape (${shape.join(', ')}) of ${descr} needs ${need} data bytes, the file has ${have}`);
  // copy into a fresh buffer: aligned for the typed array (and Node's Buffer.slice would be a view)
  const body = new Uint8Array(need);
  body.set(bytes.subarray(dataStart, dataStart + need));
  const data = dtype === '<f4' ? new Float32Array(body.buffer, 0, count) : dtype === '<f8' ? new Float64Array(body.buffer, 0, count) : new Uint8Array(body.buffer, 0, count);
  return { dtype, shape, data };
}

/** Version 1.0 .npy bytes for a C-ordered array (little-endian, as numpy writes on x86/ARM). */
export function encodeNpy(arr: { shape: number[]; data: Float32Array | Float64Array | Uint8Array }): Uint8Array {
  const descr = arr.data instanceof Float32Array ? '<f4' : arr.data instanceof Float64Array ? '<f8' : '|u1';
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + arr.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength), 10 + header.length);
  return out;
}
