// A safetensors writer for tensors that arrive one at a time, in any order, with memory bounded
// by one tensor whatever the file size: each tensor is appended to a spool file as it comes,
// and `finish` assembles the final file (header, then the data in the writer's order) under a
// temporary name and renames it into place. The bytes are exactly those writeSafetensors
// (src-main/engine/esm2/safetensors.ts) writes for the same tensors and metadata: same tensor
// order (largest element first, then by name), same header JSON and padding.
// (test/jobs/safetensors-spool.test.ts checks it against writeSafetensors.)
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { DTYPE_SIZE, SafetensorsError, type Dtype, type TensorData } from '../esm2/safetensors.js';

interface Spooled {
  dtype: Dtype;
  shape: number[];
  /** byte offset in the spool file */
  at: number;
  bytes: number;
}

export class SafetensorsSpool {
  private readonly entries = new Map<string, Spooled>();
  private size = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly spoolPath: string,
    private readonly spool: FileHandle,
  ) {}

  /** Start a file at `path` (nothing appears there until finish). */
  static async create(path: string): Promise<SafetensorsSpool> {
    if (endianness() !== 'LE') throw new SafetensorsError('safetensors support needs a little-endian machine');
    const spoolPath = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.spool`;
    return new SafetensorsSpool(path, spoolPath, await open(spoolPath, 'w+'));
  }

  async add(name: string, dtype: Dtype, shape: readonly number[], data: TensorData): Promise<void> {
    if (this.closed) throw new Error('SafetensorsSpool: add after finish/abort');
    if (name === '__metadata__') throw new SafetensorsError("'__metadata__' is reserved and cannot name a tensor");
    if (this.entries.has(name)) throw new SafetensorsError(`tensor '${name}' written twice`);
    if (!(dtype in DTYPE_SIZE)) throw new SafetensorsError(`tensor '${name}': unsupported dtype ${dtype}`);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const need = shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype];
    if (bytes.length !== need) throw new SafetensorsError(`tensor '${name}': ${bytes.length} bytes of data but ${dtype}${JSON.stringify(shape)} needs ${need}`);
    if (need > 0) await this.spool.write(bytes, 0, need, this.size);
    this.entries.set(name, { dtype, shape: [...shape], at: this.size, bytes: need });
    this.size += need;
  }

  /** Write the final file atomically and remove the spool. */
  async finish(metadata?: Record<string, string>): Promise<void> {
    if (this.closed) throw new Error('SafetensorsSpool: finish after finish/abort');
    this.closed = true;
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    let out: FileHandle | undefined;
    try {
      const names = [...this.entries.keys()];
      const size = (n: string) => DTYPE_SIZE[this.entries.get(n)!.dtype];
      names.sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
      const header: Record<string, unknown> = {};
      if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
      let offset = 0;
      for (const n of names) {
        const e = this.entries.get(n)!;
        header[n] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes] };
        offset += e.bytes;
      }
      let json = JSON.stringify(header);
      json += ' '.repeat((8 - (Buffer.byteLength(json, 'utf8') % 8)) % 8);
      const hb = Buffer.from(json, 'utf8');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(hb.length));

      out = await open(tmp, 'w');
      await out.write(len);
      await out.write(hb);
      let buf = Buffer.alloc(1 << 20);
      for (const n of names) {
        const e = this.entries.get(n)!;
        if (e.bytes > buf.length) buf = Buffer.alloc(e.bytes);
        const { bytesRead } = await this.spool.read(buf, 0, e.bytes, e.at);
        if (bytesRead !== e.bytes) throw new Error(`${this.spoolPath}: short read of tensor '${n}'`);
        await out.write(buf, 0, e.bytes);
      }
      await out.sync();
      await out.close();
      out = undefined;
      await rename(tmp, this.path);
    } catch (e) {
      await out?.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    } finally {
      await this.spool.close().catch(() => undefined);
      await rm(this.spoolPath, { force: true });
    }
  }

  /** Drop everything (cancel, failure): nothing is left on disk. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.spool.close().catch(() => undefined);
    await rm(this.spoolPath, { force: true });
  }
}
