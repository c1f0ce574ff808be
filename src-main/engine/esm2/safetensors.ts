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
import { AtomicFile } from '../atomic.js';
import { InputError, type Location } from '../data/errors.js';

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

/** A safetensors file that cannot be read (an InputError: the file is at fault, and named). */
export class SafetensorsError extends InputError {
  override name = 'SafetensorsError';
  constructor(reason: string, loc: Location = { file: '' }) {
    super(reason, loc);
    if (!loc.file) this.message = reason;
  }
}

const isDtype = (d: unknown): d is Dtype => typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, d);

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
  const fail = (why: string, offset?: number): never => {
    throw new SafetensorsError(why, offset === undefined ? { file: path } : { file: path, offset });
  };
  if (src.size < 8) fail(`truncated or not a safetensors file: ${src.size} bytes, the 8-byte header length is missing`);
  const lenBytes = new Uint8Array(8);
  src.readInto(lenBytes, 0);
  const n64 = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`corrupt header: declared header length ${n64} bytes is implausible (not a safetensors file?)`, 0);
  const headerLength = Number(n64);
  if (headerLength < 2) fail(`corrupt header: declared header length ${headerLength} bytes cannot hold a JSON object`, 0);
  if (8 + headerLength > src.size) {
    fail(`truncated: header declares ${headerLength} bytes but the file has only ${src.size - 8} after the length field`, 0);
  }
  const hb = new Uint8Array(headerLength);
  src.readInto(hb, 8);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hb));
  } catch (e) {
    fail(`corrupt header: not valid UTF-8 JSON (${(e as Error).message})`, 8);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('corrupt header: JSON is not an object', 8);
  const dataStart = 8 + headerLength;
  const dataSize = src.size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Safetensor>();
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('corrupt header: __metadata__ is not an object', 8);
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`corrupt header: __metadata__.${k} is not a string`, 8);
        metadata[k] = s as string;
      }
      continue;
    }
    const bad = (why: string): never => fail(`tensor '${name}': ${why}`, 8);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null || Array.isArray(e)) bad('entry is not an object');
    // Own properties only: `"dtype": "constructor"` must not find Object.prototype.constructor.
    const field = (k: 'dtype' | 'shape' | 'data_offsets') => (Object.prototype.hasOwnProperty.call(e, k) ? e[k] : undefined);
    const dt = field('dtype');
    if (!isDtype(dt)) bad(`unsupported dtype ${JSON.stringify(dt) ?? 'undefined'}`);
    const dtype = dt as Dtype;
    const sh = field('shape');
    if (!Array.isArray(sh) || !sh.every((d) => Number.isSafeInteger(d) && d >= 0)) bad('shape is not a list of non-negative integers');
    const shape = sh as number[];
    const off = field('data_offsets');
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
      bad('data_offsets is not [begin, end]');
    }
    const [begin, end] = off as [number, number];
    if (end > dataSize) bad(`data ends at byte ${dataStart + end} but the file has ${src.size} bytes (truncated file)`);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPE_SIZE[dtype]) {
      bad(`data_offsets span ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${numel * DTYPE_SIZE[dtype]}`);
    }
    spans.push([begin, end, name]);
    const info: SafetensorInfo = { name, dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin };
    tensors.set(name, makeTensor(info, src));
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`corrupt header: tensors '${spans[i - 1][2]}' and '${spans[i][2]}' overlap`, 8);
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

/** One tensor's place in a file being laid out: name, dtype, shape and data size in bytes. */
export interface TensorLayout {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
  bytes: number;
}

/**
 * The file layout every writer here uses: tensors ordered largest element size first, then by
 * name (so every tensor stays aligned to its element size), and the 8-byte length + header JSON
 * padded with spaces to a multiple of 8. Returns the order and the bytes that precede the data.
 */
export function safetensorsLayout(entries: readonly TensorLayout[], metadata?: Record<string, string>): { order: TensorLayout[]; head: Uint8Array } {
  assertLittleEndian();
  const order = [...entries].sort((a, b) => DTYPE_SIZE[b.dtype] - DTYPE_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of order) {
    header[e.name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [offset, offset + e.bytes] };
    offset += e.bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json, 'utf8') % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const head = Buffer.alloc(8 + hb.length);
  head.writeBigUInt64LE(BigInt(hb.length));
  hb.copy(head, 8);
  return { order, head };
}

/** Checks one tensor about to be written and returns its bytes. */
export function tensorBytes(name: string, dtype: Dtype, shape: readonly number[], data: TensorData): Uint8Array;
/** Checks name, dtype and shape only and returns the data size in bytes (data produced later). */
export function tensorBytes(name: string, dtype: Dtype, shape: readonly number[], data: TensorData, withData: false): number;
export function tensorBytes(name: string, dtype: Dtype, shape: readonly number[], data: TensorData, withData = true): Uint8Array | number {
  if (name === '__metadata__') throw new SafetensorsError("'__metadata__' is reserved and cannot name a tensor");
  if (!Object.hasOwn(DTYPE_SIZE, dtype)) throw new SafetensorsError(`tensor '${name}': unsupported dtype ${dtype}`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
  const need = shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype];
  if (!withData) return need;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length !== need) throw new SafetensorsError(`tensor '${name}': ${bytes.length} bytes of data but ${dtype}${JSON.stringify(shape)} needs ${need}`);
  return bytes;
}

/**
 * Write tensors as a safetensors file through the project's atomic writer: the file appears at
 * `path` only once completely written, so a crash, a full disk or a cancellation leaves either
 * the old file or none. Returns the file's size and the sha256 of the bytes written.
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<{ bytes: number; sha256: string }> {
  const bodies = new Map<string, Uint8Array>();
  const entries: TensorLayout[] = Object.entries(tensors).map(([name, t]) => {
    const bytes = tensorBytes(name, t.dtype, t.shape, t.data);
    bodies.set(name, bytes);
    return { name, dtype: t.dtype, shape: t.shape, bytes: bytes.length };
  });
  const { order, head } = safetensorsLayout(entries, metadata);
  const out = AtomicFile.create(path, { expectedBytes: head.length + entries.reduce((a, e) => a + e.bytes, 0), hash: true });
  out.write(head);
  for (const e of order) if (e.bytes > 0) out.write(bodies.get(e.name)!);
  const sha256 = out.digest();
  out.commit();
  return { bytes: out.size, sha256 };
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
 * writeSafetensors for tensors produced in chunks (files larger than memory), in the same
 * layout and through the same atomic writer; between chunks, signals and progress listeners run.
 */
export async function writeSafetensorsStream(path: string, tensors: Record<string, StreamedTensor>, o: StreamOptions = {}): Promise<void> {
  const entries: TensorLayout[] = Object.entries(tensors).map(([name, t]) => {
    const bytes = tensorBytes(name, t.dtype, t.shape, new Uint8Array(0), false);
    return { name, dtype: t.dtype, shape: t.shape, bytes };
  });
  const { order, head } = safetensorsLayout(entries, o.metadata);
  const total = entries.reduce((a, e) => a + e.bytes, 0);
  const buf = new Uint8Array(Math.min(Math.max(8, (o.chunkBytes ?? 8 << 20) & ~7), Math.max(8, total)));
  const out = AtomicFile.create(path);
  try {
    out.write(head);
    let written = 0;
    for (const e of order) {
      for (let at = 0; at < e.bytes; at += buf.length) {
        if (o.signal?.aborted) throw new DOMException('writing cancelled', 'AbortError');
        const piece = buf.subarray(0, Math.min(buf.length, e.bytes - at));
        tensors[e.name].fill(piece, at);
        out.write(piece);
        written += piece.length;
        o.onProgress?.(written, total);
        if (o.onProgress || o.signal) await new Promise((r) => setImmediate(r));
      }
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
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
