// safetensors reader and writer.
//
// Format (https://github.com/huggingface/safetensors): 8-byte little-endian u64 N, then N bytes
// of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}},
// then the data region; offsets are relative to the start of the data region (8 + N).
//
// The reader parses only the header and reads tensor data lazily with positional reads, so a
// multi-gigabyte checkpoint costs nothing until a tensor is asked for, and every tensor keeps its
// absolute byte offset in the file: the graph builder points ONNX external data at F32 tensors
// in place instead of copying them. F16/BF16/F64 (and integer) tensors convert to float32 on
// demand. The writer orders tensors by element size (largest first) so each tensor starts at a
// multiple of its own element size, pads the header to 8 bytes with spaces as the format asks,
// and writes to a temporary file that is renamed into place only when complete.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeFileAtomicStream } from '../atomic.js';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export type TensorData =
  | Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export interface SafetensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** absolute byte offset of the tensor's data in the file */
  byteOffset: number;
  byteLength: number;
}

export interface Safetensor extends SafetensorInfo {
  /** data converted to float32 (F32 read as is; F16/BF16/F64/integers converted) */
  toFloat32(): Float32Array;
  /** data in its own type: Float64Array, Float32Array, BigInt64Array, Int32Array, Int16Array,
   *  Int8Array, Uint8Array (U8, BOOL), Uint16Array (raw F16/BF16 bits) */
  read(): TensorData;
}

export interface SafetensorsFile {
  path: string;
  /** N, the JSON header length */
  headerLength: number;
  /** absolute offset of the data region (8 + N) */
  dataStart: number;
  fileSize: number;
  metadata: Record<string, string>;
  /** tensors in header order */
  tensors: Map<string, Safetensor>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const MAX_HEADER = 100 * 1024 * 1024; // the reference implementation's own limit

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new SafetensorsError('safetensors support needs a little-endian machine');
}

/** A source of bytes: a file (positional reads) or an in-memory buffer. */
interface ByteSource {
  size: number;
  readInto(dst: Uint8Array, position: number): void;
}

function fileSource(path: string): ByteSource {
  // Each read opens the file on its own: no descriptor stays open between lazy reads.
  return {
    size: statSync(path).size,
    readInto(dst, position) {
      const fd = openSync(path, 'r');
      try {
        let done = 0;
        while (done < dst.length) {
          const n = readSync(fd, dst, done, dst.length - done, position + done);
          if (n === 0) throw new SafetensorsError(`${path}: unexpected end of file at byte ${position + done}`);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}

function bufferSource(buf: Uint8Array): ByteSource {
  return { size: buf.length, readInto: (dst, position) => dst.set(buf.subarray(position, position + dst.length)) };
}

/** Open a safetensors file: parse and check its header; tensor data is read when asked for. */
export function readSafetensors(path: string): SafetensorsFile {
  return parse(fileSource(path), path);
}

/** Same as readSafetensors for bytes already in memory (`name` is used in messages). */
export function parseSafetensors(bytes: Uint8Array, name = '<buffer>'): SafetensorsFile {
  return parse(bufferSource(bytes), name);
}

function parse(src: ByteSource, path: string): SafetensorsFile {
  assertLittleEndian();
  const fail = (why: string): never => {
    throw new SafetensorsError(`${path}: ${why}`);
  };
  if (src.size < 8) fail(`truncated or not a safetensors file: ${src.size} bytes, the 8-byte header length is missing`);
  const lenBytes = new Uint8Array(8);
  src.readInto(lenBytes, 0);
  const n64 = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`corrupt header: declared header length ${n64} bytes is implausible (not a safetensors file?)`);
  const headerLength = Number(n64);
  if (8 + headerLength > src.size) {
    fail(`truncated: header declares ${headerLength} bytes but the file has only ${src.size - 8} after the length field`);
  }
  const hb = new Uint8Array(headerLength);
  src.readInto(hb, 8);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hb));
  } catch (e) {
    fail(`corrupt header: not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('corrupt header: JSON is not an object');
  const dataStart = 8 + headerLength;
  const dataSize = src.size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Safetensor>();
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null) fail('corrupt header: __metadata__ is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`corrupt header: __metadata__.${k} is not a string`);
        metadata[k] = s as string;
      }
      continue;
    }
    const bad = (why: string): never => fail(`tensor '${name}': ${why}`);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) bad('entry is not an object');
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_SIZE)) bad(`unsupported dtype ${JSON.stringify(e.dtype)}`);
    const dtype = e.dtype as Dtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad('shape is not a list of non-negative integers');
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
      bad('data_offsets is not [begin, end]');
    }
    const [begin, end] = off as [number, number];
    const numel = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_SIZE[dtype]) {
      bad(`data_offsets span ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${numel * DTYPE_SIZE[dtype]}`);
    }
    if (end > dataSize) bad(`data ends at byte ${dataStart + end} but the file has ${src.size} bytes (truncated file)`);
    spans.push([begin, end, name]);
    const info: SafetensorInfo = { name, dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin };
    tensors.set(name, makeTensor(info, src));
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`corrupt header: tensors '${spans[i - 1][2]}' and '${spans[i][2]}' overlap`);
  }
  return { path, headerLength, dataStart, fileSize: src.size, metadata, tensors };
}

function makeTensor(info: SafetensorInfo, src: ByteSource): Safetensor {
  const numel = info.byteLength / DTYPE_SIZE[info.dtype];
  const read = (): TensorData => {
    // Allocate the typed array first and read into its own buffer: always aligned.
    const out = allocate(info.dtype, numel);
    src.readInto(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.byteOffset);
    return out;
  };
  return {
    ...info,
    read,
    toFloat32: () => toFloat32(info.dtype, read()),
  };
}

function allocate(dtype: Dtype, n: number): TensorData {
  switch (dtype) {
    case 'F64': return new Float64Array(n);
    case 'F32': return new Float32Array(n);
    case 'F16': case 'BF16': return new Uint16Array(n);
    case 'I64': return new BigInt64Array(n);
    case 'I32': return new Int32Array(n);
    case 'I16': return new Int16Array(n);
    case 'I8': return new Int8Array(n);
    case 'U8': case 'BOOL': return new Uint8Array(n);
  }
}

/** Convert raw data of a safetensors dtype to float32. */
export function toFloat32(dtype: Dtype, data: TensorData): Float32Array {
  if (dtype === 'F32') return data as Float32Array;
  const n = data.length;
  const out = new Float32Array(n);
  if (dtype === 'F16') {
    const h = data as Uint16Array;
    for (let i = 0; i < n; i++) out[i] = f16ToF32(h[i]);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32: shift the bits into place.
    const u = new Uint32Array(out.buffer);
    const h = data as Uint16Array;
    for (let i = 0; i < n; i++) u[i] = h[i] << 16;
  } else if (dtype === 'I64') {
    const b = data as BigInt64Array;
    for (let i = 0; i < n; i++) out[i] = Number(b[i]);
  } else {
    out.set(data as Exclude<TensorData, BigInt64Array>);
  }
  return out;
}

/** IEEE 754 half -> number (exact: every half is representable as a float32). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits -> number. */
export function bf16ToF32(h: number): number {
  const u = new Uint32Array([h << 16]);
  return new Float32Array(u.buffer)[0];
}

export interface TensorToWrite {
  dtype: Dtype;
  shape: readonly number[];
  /** element data in the dtype's own array type (Uint16Array bits for F16/BF16), or raw bytes */
  data: TensorData;
}

/** A tensor written in pieces: `fill` puts bytes [offset, offset + dst.length) of its data into dst. */
export interface StreamedTensor {
  dtype: Dtype;
  shape: readonly number[];
  fill(dst: Uint8Array, offset: number): void;
}

export interface StreamOptions {
  metadata?: Record<string, string>;
  /** bytes per write (default 8 MiB) */
  chunkBytes?: number;
  onProgress?: (written: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Write tensors as a safetensors file. The file appears at `path` only once completely written
 * (temporary file + rename), so a crash or cancellation leaves either the old file or none.
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const streamed: Record<string, StreamedTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const need = t.shape.reduce((a, b) => a * b, 1) * (DTYPE_SIZE[t.dtype] ?? 0);
    if (t.dtype in DTYPE_SIZE && bytes.length !== need) {
      throw new SafetensorsError(`tensor '${name}': ${bytes.length} bytes of data but ${t.dtype}${JSON.stringify(t.shape)} needs ${need}`);
    }
    streamed[name] = { dtype: t.dtype, shape: t.shape, fill: (dst, offset) => dst.set(bytes.subarray(offset, offset + dst.length)) };
  }
  await writeSafetensorsStream(path, streamed, { metadata });
}

/**
 * Write a safetensors file whose tensors are produced in chunks, so its size is not bounded by
 * memory. Tensors are ordered by element size (largest first, then by name) so each
 * starts at a multiple of its own element size; the header is padded to 8 bytes with spaces.
 */
export async function writeSafetensorsStream(path: string, tensors: Record<string, StreamedTensor>, o: StreamOptions = {}): Promise<void> {
  assertLittleEndian();
  const names = Object.keys(tensors);
  if (names.includes('__metadata__')) throw new SafetensorsError("'__metadata__' is reserved and cannot name a tensor");
  for (const name of names) {
    const t = tensors[name];
    if (!(t.dtype in DTYPE_SIZE)) throw new SafetensorsError(`tensor '${name}': unsupported dtype ${t.dtype}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor '${name}': bad shape ${JSON.stringify(t.shape)}`);
  }
  const order = [...names].sort((a, b) => DTYPE_SIZE[tensors[b].dtype] - DTYPE_SIZE[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (o.metadata && Object.keys(o.metadata).length > 0) header.__metadata__ = o.metadata;
  let total = 0;
  const sizes = new Map<string, number>();
  for (const name of order) {
    const t = tensors[name];
    const need = t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[t.dtype];
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [total, total + need] };
    sizes.set(name, need);
    total += need;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const chunkBytes = Math.max(8, (o.chunkBytes ?? 8 << 20) & ~7);
  await writeFileAtomicStream(path, async (write) => {
    write(len);
    write(hb);
    const buf = new Uint8Array(Math.min(chunkBytes, Math.max(8, total)));
    let written = 0;
    for (const name of order) {
      const size = sizes.get(name)!;
      for (let at = 0; at < size; at += buf.length) {
        if (o.signal?.aborted) throw new DOMException('writing cancelled', 'AbortError');
        const piece = buf.subarray(0, Math.min(buf.length, size - at));
        tensors[name].fill(piece, at);
        write(piece);
        written += piece.length;
        o.onProgress?.(written, total);
        // let timers, signals and progress listeners run between chunks of a long write
        if (o.onProgress || o.signal) await new Promise((r) => setImmediate(r));
      }
    }
  });
}

/**
 * Read one tensor's data straight from a file given its header info (as kept by the weight
 * loader), without re-parsing the header.
 */
export function readTensorData(path: string, info: Pick<SafetensorInfo, 'dtype' | 'byteOffset' | 'byteLength'>): TensorData {
  assertLittleEndian();
  const out = allocate(info.dtype, info.byteLength / DTYPE_SIZE[info.dtype]);
  fileSource(path).readInto(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), info.byteOffset);
  return out;
}
