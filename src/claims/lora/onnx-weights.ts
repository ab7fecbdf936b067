/**
 * The weights of an ONNX model, read from its protobuf without a runtime: `ModelProto.graph` (field 7)
 * → `GraphProto.initializer` (5: TensorProto) and `GraphProto.node` (1: NodeProto, to find which
 * initializer a named layer multiplies by). Field numbers from onnx/onnx.proto3. A TensorProto's
 * values are in `raw_data` (9, little-endian), in `float_data` (4) / `double_data` (10), or, with
 * `data_location` EXTERNAL (14 = 1), in a file beside the model named by `external_data` (13:
 * location, offset, length) — as torch and optimum write models over 2 GB.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../errors.ts';

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** TensorProto.DataType: 1 FLOAT, 10 FLOAT16, 11 DOUBLE, 16 BFLOAT16, others compared as bytes. */
  dataType: number;
  /** The stored bytes (raw or external), or undefined when the values are in typed fields. */
  raw?: Uint8Array;
  /** Values from float_data / double_data. */
  typed?: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (e.g. Gemm's transB). */
  ints: Record<string, number>;
}

export interface OnnxWeights {
  file: string;
  initializers: Map<string, OnnxInitializer>;
  nodes: OnnxNode[];
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
  ) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.bad('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    throw this.bad('varint longer than 10 bytes');
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw this.bad(`field of ${n} bytes runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw this.bad(`unsupported wire type ${wire}`);
  }
  /** Calls `on(field, wire)` for every field; `on` reads the value or returns false to skip it. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (!this.done) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (!on(field, wire)) this.skip(wire);
    }
  }
  bad(why: string): InputError {
    return new InputError(`not a readable ONNX model (${why} at byte ${this.pos})`, { file: this.file });
  }
}

function repeatedVarints(r: Reader, wire: number, into: number[]): void {
  if (wire === 2) {
    const sub = new Reader(r.bytes(), r.file);
    while (!sub.done) into.push(sub.varint());
  } else into.push(r.varint());
}

function readTensor(buf: Uint8Array, file: string): OnnxInitializer & { external?: Record<string, string>; location?: number } {
  const r = new Reader(buf, file);
  const t: OnnxInitializer & { external?: Record<string, string>; location?: number } = { name: '', dims: [], dataType: 0 };
  r.fields((field, wire) => {
    if (field === 1) repeatedVarints(r, wire, t.dims);
    else if (field === 2) t.dataType = r.varint();
    else if (field === 8) t.name = r.string();
    else if (field === 9) t.raw = r.bytes();
    else if (field === 14) t.location = r.varint();
    else if (field === 4 || field === 10) {
      const width = field === 4 ? 4 : 8;
      const vals = (t.typed ??= []);
      const b = wire === 2 ? r.bytes() : r.buf.subarray(r.pos, (r.pos += width));
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + width <= b.byteLength; i += width) vals.push(width === 4 ? dv.getFloat32(i, true) : dv.getFloat64(i, true));
    } else if (field === 13) {
      const e = new Reader(r.bytes(), file);
      let key = '';
      let value = '';
      e.fields((f) => {
        if (f === 1) key = e.string();
        else if (f === 2) value = e.string();
        else return false;
        return true;
      });
      (t.external ??= {})[key] = value;
    } else return false;
    return true;
  });
  return t;
}

/** Reads the initializers and nodes of an .onnx file (external data resolved beside it). */
export async function readOnnxWeights(file: string): Promise<OnnxWeights> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new InputError(`cannot read the ONNX model: ${(e as Error).message}`, { file });
  }
  const model = new Reader(buf, file);
  let graph: Uint8Array | undefined;
  model.fields((field, wire) => {
    if (field === 7 && wire === 2) {
      graph = model.bytes();
      return true;
    }
    return false;
  });
  if (!graph) throw new InputError('not an ONNX model: no graph (ModelProto field 7)', { file });
  const initializers = new Map<string, OnnxInitializer>();
  const nodes: OnnxNode[] = [];
  const externalFiles = new Map<string, Buffer>();
  const g = new Reader(graph, file);
  const pending: (OnnxInitializer & { external?: Record<string, string>; location?: number })[] = [];
  g.fields((field, wire) => {
    if (wire !== 2) return false;
    if (field === 5) pending.push(readTensor(g.bytes(), file));
    else if (field === 1) {
      const n = new Reader(g.bytes(), file);
      const node: OnnxNode = { name: '', opType: '', inputs: [], outputs: [], ints: {} };
      n.fields((f) => {
        if (f === 1) node.inputs.push(n.string());
        else if (f === 2) node.outputs.push(n.string());
        else if (f === 3) node.name = n.string();
        else if (f === 4) node.opType = n.string();
        else if (f === 5) {
          const a = new Reader(n.bytes(), file);
          let name = '';
          let i: number | undefined;
          a.fields((af) => {
            if (af === 1) name = a.string();
            else if (af === 3) i = a.varint();
            else return false;
            return true;
          });
          if (i !== undefined) node.ints[name] = i;
        } else return false;
        return true;
      });
      nodes.push(node);
    } else return false;
    return true;
  });
  for (const t of pending) {
    if (t.location === 1) {
      const loc = t.external?.location;
      if (!loc) throw new InputError(`initializer "${t.name}" is stored externally but names no location`, { file, field: t.name });
      const target = path.resolve(path.dirname(file), loc);
      if (path.relative(path.dirname(file), target).startsWith('..')) {
        throw new InputError(`initializer "${t.name}" points outside the model's folder (${loc})`, { file, field: t.name });
      }
      let data = externalFiles.get(target);
      if (!data) {
        try {
          data = await readFile(target);
        } catch (e) {
          throw new InputError(`cannot read the external data of initializer "${t.name}": ${(e as Error).message}`, { file: target, field: t.name });
        }
        externalFiles.set(target, data);
      }
      const offset = Number(t.external?.offset ?? 0);
      const length = t.external?.length !== undefined ? Number(t.external.length) : data.length - offset;
      if (!(offset >= 0 && length >= 0 && offset + length <= data.length)) {
        throw new InputError(`external data of initializer "${t.name}" (offset ${offset}, length ${length}) lies outside ${loc}`, { file: target, field: t.name });
      }
      t.raw = data.subarray(offset, offset + length);
    }
    const { external: _e, location: _l, ...init } = t;
    initializers.set(t.name, init);
  }
  return { file, initializers, nodes };
}

const WIDTH: Record<number, number> = { 1: 4, 10: 2, 11: 8, 16: 2 };

/** The values of a floating-point initializer as float64, row-major; undefined for other types. */
export function initializerValues(t: OnnxInitializer): Float64Array | undefined {
  const width = WIDTH[t.dataType];
  if (width === undefined) return undefined;
  if (t.typed) return Float64Array.from(t.typed);
  const raw = t.raw ?? new Uint8Array(0);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = Math.floor(raw.byteLength / width);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * width;
    if (t.dataType === 1) out[i] = dv.getFloat32(at, true);
    else if (t.dataType === 11) out[i] = dv.getFloat64(at, true);
    else if (t.dataType === 16) out[i] = new Float32Array(new Uint32Array([dv.getUint16(at, true) << 16]).buffer)[0]!;
    else {
      const h = dv.getUint16(at, true);
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  return out;
}
