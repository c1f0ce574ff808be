// A safetensors writer for tensors that arrive one at a time, in any order, with memory bounded
// by one tensor whatever the file size: each tensor is appended to a spool file as it comes,
// and `finish` assembles the final file (header, then the data in the writer's order) through
// the atomic writer. The bytes are exactly those writeSafetensors (src-main/engine/esm2/
// safetensors.ts) writes for the same tensors and metadata: both use safetensorsLayout.
// The spool is a scratch file under the writer's temporary naming, so a signal or the next
// start's sweep removes it if this process dies. (test/jobs/safetensors-spool.test.ts checks
// the bytes against writeSafetensors.)
import path from 'node:path';
import { AtomicFile, createScratchFile } from '../atomic.js';
import { type Dtype, type TensorData, type TensorLayout, SafetensorsError, safetensorsLayout, tensorBytes } from '../esm2/safetensors.js';

export class SafetensorsSpool {
  private readonly entries = new Map<string, TensorLayout & { at: number }>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly spool: AtomicFile,
  ) {}

  /** Start a file at `path` (nothing appears there until finish). */
  static async create(file: string): Promise<SafetensorsSpool> {
    return new SafetensorsSpool(file, createScratchFile(path.dirname(file), `${path.basename(file)}.spool`));
  }

  async add(name: string, dtype: Dtype, shape: readonly number[], data: TensorData): Promise<void> {
    if (this.closed) throw new Error('SafetensorsSpool: add after finish/abort');
    if (this.entries.has(name)) throw new SafetensorsError(`tensor '${name}' written twice`);
    const bytes = tensorBytes(name, dtype, shape, data);
    const at = this.spool.size;
    if (bytes.length > 0) this.spool.write(bytes);
    this.entries.set(name, { name, dtype, shape: [...shape], bytes: bytes.length, at });
  }

  /** Write the final file atomically and remove the spool. */
  async finish(metadata?: Record<string, string>): Promise<void> {
    if (this.closed) throw new Error('SafetensorsSpool: finish after finish/abort');
    this.closed = true;
    const { order, head } = safetensorsLayout([...this.entries.values()], metadata);
    let out: AtomicFile | undefined;
    try {
      out = AtomicFile.create(this.path);
      out.write(head);
      const buf = new Uint8Array(1 << 20);
      for (const e of order) {
        const { at } = this.entries.get(e.name)!;
        for (let done = 0; done < e.bytes; ) {
          const n = Math.min(buf.length, e.bytes - done);
          const chunk = buf.subarray(0, n);
          this.spool.readAt(chunk, at + done);
          out.write(chunk);
          done += n;
        }
      }
      out.commit();
    } catch (e) {
      out?.abort();
      throw e;
    } finally {
      this.spool.abort();
    }
  }

  /** Drop everything (cancel, failure): nothing is left on disk. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.spool.abort();
  }
}
