import { createRequire } from 'node:module';
import { z } from 'zod';
import { mean, scoreSplits, type LmEvidence } from '../lm-membership.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const zlibOptions = z.strictObject({});

/** pako's port of zlib's own C API (pako/lib/zlib), which @types/pako does not declare: the part used here. */
interface ZStream {
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
  total_out: number;
  state: { window: Uint8Array; prev: Uint16Array } | null;
}
const pakoRequire = createRequire(import.meta.url);
const ZStreamClass = pakoRequire('pako/lib/zlib/zstream.js') as new () => ZStream;
const zlibDeflate = pakoRequire('pako/lib/zlib/deflate.js') as {
  deflateInit2(strm: ZStream, level: number, method: number, windowBits: number, memLevel: number, strategy: number, legacyHash: boolean): number;
  deflateReset(strm: ZStream): number;
  deflate(strm: ZStream, flush: number): number;
};

/** zlib's constants (zlib.h): what pako's deflate() passes for its defaults, i.e. Python's zlib.compress(data). */
const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_FINISH = 4;
const Z_DEFLATED = 8;
const LEVEL = 6;
const WINDOW_BITS = 15;
const MEM_LEVEL = 8;
const Z_DEFAULT_STRATEGY = 0;
/** zlib 1.2's hash (pako's default; without it pako hashes like Node's zlib, whose lengths differ from Python's). */
const LEGACY_HASH = true;

/**
 * One deflate stream for every record: a fresh one (pako's deflate()) allocates and zeroes ~260 KB of
 * window, hash chains and buffers, which was most of the zlib attack's time. Between records the stream
 * is reset as zlib's deflateReset does and its window and chains are zeroed, so each record starts
 * from exactly the state a fresh stream has (pako, unlike zlib, never zeroes the window's unused tail:
 * a stale tail could change a match at the end of the input).
 */
let stream: ZStream | undefined;
/** The output bytes are only counted: one buffer is written over as often as it fills. */
const output = new Uint8Array(1 << 16);

/**
 * Bytes of the record's UTF-8 text after zlib compression, equal to Python's
 * `len(zlib.compress(text.encode()))` (level 6, zlib header). pako, not node:zlib: Node 20 bundles
 * Chromium's zlib fork, whose output length differs from Python's zlib 1.2 on most support-desk
 * records (by up to 4 bytes), which would shift scores against MIMIR's by a few per cent.
 */
export function zlibBytes(text: string): number {
  const input = Buffer.from(text, 'utf8');
  let s = stream;
  if (!s) {
    s = new ZStreamClass();
    if (zlibDeflate.deflateInit2(s, LEVEL, Z_DEFLATED, WINDOW_BITS, MEM_LEVEL, Z_DEFAULT_STRATEGY, LEGACY_HASH) !== Z_OK) throw new Error('zlib: deflateInit2 failed');
    stream = s;
  } else {
    const st = s.state!;
    st.window.fill(0);
    st.prev.fill(0);
    if (zlibDeflate.deflateReset(s) !== Z_OK) throw new Error('zlib: deflateReset failed');
  }
  s.input = input;
  s.next_in = 0;
  s.avail_in = input.length;
  for (;;) {
    s.output = output;
    s.next_out = 0;
    s.avail_out = output.length;
    const ret = zlibDeflate.deflate(s, Z_FINISH);
    if (ret === Z_STREAM_END) break;
    if (ret !== Z_OK) throw new Error(`zlib: deflate returned ${ret}`);
  }
  s.input = null;
  return s.total_out;
}

/**
 * zlib ratio (Carlini et al., USENIX Security 2021, §5.2 "zlib"): the model's log-perplexity relative
 * to the text's zlib entropy, so that text that is merely easy (repetitive) does not look memorised.
 * Score = −NLL / zlibBytes (MIMIR's NLL/zlib, negated so that higher = member).
 */
export const zlib = defineAttack<z.infer<typeof zlibOptions>, LmEvidence>({
  meta: {
    id: 'zlib',
    title: 'Loss calibrated by compressibility does not separate deleted records',
    failureTitle: 'Loss calibrated by compressibility separates deleted records',
    description:
      'Low loss can just mean the text is predictable. Dividing the loss by how well zlib compresses the ' +
      'text removes that effect, so what is left points at memorisation of this particular record.',
    family: 'membership',
    requires: ['tokenLogprobs'],
    reference:
      'Carlini et al. Extracting Training Data from Large Language Models. USENIX Security 2021, §5.2 (zlib metric) and §6; MIMIR mimir/attacks/zlib.py.',
  },
  options: zlibOptions,
  collect,
  evaluate: (evidence, ctx) => scoreSplits(evidence, ctx, (s, r) => mean(s.logprobs) / zlibBytes(r.text)),
});
