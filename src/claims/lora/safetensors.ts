/**
 * A safetensors reader (https://github.com/huggingface/safetensors, "Format"): bytes 0–7 are the
 * little-endian u64 length N of a UTF-8 JSON header; the header maps tensor names to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the byte after the header) and may
 * hold `__metadata__` (string → string). Data are little-endian, row-major. No pickle, no code: the
 * only format a privacy tool should open from someone else's training pipeline.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors.ts';

export interface Tensor {
  name: string;
  shape: number[];
  dtype: string;
  /** Values as float64 (F16/BF16/F32/F64 widened exactly). */
  data: Float64Array;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
/** A header larger than this is not a safetensors file (the format's own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Reads every tensor of a .safetensors file; any malformation is an InputError naming the file and tensor. */
export async function readSafetensors(file: string): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string>; bytes: number }> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new InputError(`cannot read the adapter weights: ${(e as Error).message}`, { file });
  }
  const bad = (why: string, field?: string) => new InputError(`not a valid safetensors file: ${why}`, { file, ...(field ? { field } : {}) });
  if (buf.length < 8) throw bad(`${buf.length} bytes, shorter than the 8-byte header length`);
  const n = Number(buf.readBigUInt64LE(0));
  if (n > MAX_HEADER || 8 + n > buf.length) throw bad(`header length ${n} exceeds the file (${buf.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const data = buf.subarray(8 + n);
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (info ?? {}) as Record<string, string>;
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(t?.dtype);
    const size = BYTES[dtype];
    if (size === undefined) throw bad(`dtype "${dtype}" is not a floating-point type this reader supports (F64, F32, F16, BF16)`, name);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape is not a list of non-negative integers', name);
    const shape = t.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('data_offsets is not [begin, end]', name);
    const [begin, end] = off as [number, number];
    if (end < begin || end > data.length) throw bad(`data_offsets [${begin}, ${end}] lie outside the ${data.length} data bytes`, name);
    if (end - begin !== count * size) throw bad(`shape [${shape.join(', ')}] of ${dtype} needs ${count * size} bytes, data_offsets give ${end - begin}`, name);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = begin + i * size;
      out[i] =
        dtype === 'F32'
          ? data.readFloatLE(at)
          : dtype === 'F64'
            ? data.readDoubleLE(at)
            : dtype === 'F16'
              ? f16(data.readUInt16LE(at))
              : // BF16: the high half of an F32.
                new Float32Array(new Uint32Array([data.readUInt16LE(at) << 16]).buffer)[0]!;
    }
    tensors.set(name, { name, shape, dtype, data: out });
  }
  return { tensors, metadata, bytes: buf.length };
}
