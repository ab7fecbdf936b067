// pako's port of zlib's own C API (pako/lib/zlib), which @types/pako does not declare: the part of it
// zlibBytes uses to keep one deflate stream for every record (see ./index.ts).
declare module 'pako/lib/zlib/zstream.js' {
  class ZStream {
    input: Uint8Array | null;
    next_in: number;
    avail_in: number;
    output: Uint8Array | null;
    next_out: number;
    avail_out: number;
    total_out: number;
    state: { window: Uint8Array; prev: Uint16Array; head: Uint16Array } | null;
  }
  export default ZStream;
}
declare module 'pako/lib/zlib/deflate.js' {
  import type ZStream from 'pako/lib/zlib/zstream.js';
  const zlib: {
    deflateInit2(strm: ZStream, level: number, method: number, windowBits: number, memLevel: number, strategy: number, legacyHash: boolean): number;
    deflateReset(strm: ZStream): number;
    deflate(strm: ZStream, flush: number): number;
  };
  export default zlib;
}
