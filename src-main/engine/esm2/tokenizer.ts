// The ESM-2 alphabet and tokenizer.
//
// The 33-token vocabulary below is byte-for-byte the `vocab.txt` shipped with every
// facebook/esm2_* checkpoint (and the fixtures): 4 specials, 20 standard residues in ESM's
// frequency order, the ambiguous/rare residues X B U Z O, the gap symbols `.` `-`, `<null_1>`
// (an unused padding slot that makes the vocabulary 33) and `<mask>`. A model directory's own
// vocab.txt, when present, is loaded instead, so ids always come from the file that matches the
// weights; the built-in default only covers directories without one.
//
// Input layout (fair-esm and Hugging Face agree): `<cls>` + one token per residue + `<eos>`,
// right-padded with `<pad>` in a batch. A literal special token such as `<mask>` inside a
// sequence string is one token (the fixtures' reference.json uses `<mask>` this way).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../data/errors.js';
import { readTextFileSync } from '../data/utf8.js';

export const DEFAULT_VOCAB: readonly string[] = Object.freeze([
  '<cls>', '<pad>', '<eos>', '<unk>',
  'L', 'A', 'G', 'V', 'S', 'E', 'R', 'T', 'I', 'D', 'P', 'K', 'Q', 'N', 'F', 'Y', 'M', 'H', 'W', 'C',
  'X', 'B', 'U', 'Z', 'O', '.', '-',
  '<null_1>', '<mask>',
]);

/** One-letter residue symbols of the ESM alphabet (standard 20 + X B U Z O). Gaps excluded. */
export const ESM_RESIDUES = 'LAGVSERTIDPKQNFYMHWCXBUZO';
/** Gap symbols that are in the ESM alphabet but never occur in an unaligned protein. */
export const ESM_GAPS = '.-';

export type IdArrayKind = 'int32' | 'int64';

export interface EncodedBatch<A extends Int32Array | BigInt64Array = Int32Array | BigInt64Array> {
  /** row-major [batch, maxLen] token ids, right-padded with `<pad>` */
  ids: A;
  /** tokens per sequence, `<cls>` and `<eos>` included */
  lengths: Int32Array;
  batch: number;
  maxLen: number;
}

export class EsmTokenizer {
  readonly tokens: readonly string[];
  readonly clsId: number;
  readonly padId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly maskId: number;
  private readonly ids: Map<string, number>;
  /** ASCII code -> id for single-character tokens, -1 when not a token */
  private readonly charIds = new Int32Array(128).fill(-1);
  /** multi-character tokens of the form `<...>`, recognised literally inside a sequence */
  private readonly specials: Map<string, number>;

  constructor(tokens: readonly string[], readonly source = 'built-in ESM-2 vocabulary') {
    const ids = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (t.length === 0) throw new InputError('empty token', { file: source, line: i + 1 });
      if (ids.has(t)) throw new InputError(`token '${t}' appears twice (lines ${ids.get(t)! + 1} and ${i + 1})`, { file: source, line: i + 1 });
      ids.set(t, i);
    });
    const need = (t: string) => {
      const id = ids.get(t);
      if (id === undefined) throw new InputError(`vocabulary has no '${t}' token`, { file: source });
      return id;
    };
    this.tokens = Object.freeze([...tokens]);
    this.ids = ids;
    this.clsId = need('<cls>');
    this.padId = need('<pad>');
    this.eosId = need('<eos>');
    this.unkId = need('<unk>');
    this.maskId = need('<mask>');
    this.specials = new Map();
    for (const [t, id] of ids) {
      if (t.length === 1 && t.charCodeAt(0) < 128) this.charIds[t.charCodeAt(0)] = id;
      else if (t.startsWith('<') && t.endsWith('>')) this.specials.set(t, id);
    }
  }

  static default(): EsmTokenizer {
    return new EsmTokenizer(DEFAULT_VOCAB);
  }

  /** One token per line; trailing newline optional, CRLF accepted. */
  static fromVocabFile(file: string): EsmTokenizer {
    // strict UTF-8: an undecodable byte is named, never turned into U+FFFD (a token then no one could type)
    const lines = readTextFileSync(file).replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new EsmTokenizer(lines, file);
  }

  /** The directory's vocab.txt when it has one, else the built-in default (identical to it). */
  static fromModelDir(dir: string): EsmTokenizer {
    const f = path.join(dir, 'vocab.txt');
    return existsSync(f) ? EsmTokenizer.fromVocabFile(f) : EsmTokenizer.default();
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  /** True when this vocabulary is the published ESM-2 one (same tokens, same order). */
  isDefaultVocab(): boolean {
    return this.tokens.length === DEFAULT_VOCAB.length && this.tokens.every((t, i) => t === DEFAULT_VOCAB[i]);
  }

  tokenId(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new Error(`unknown token '${token}'`);
    return id;
  }

  /**
   * Residue ids of a sequence, without `<cls>`/`<eos>`. Unknown characters throw (naming the
   * 1-based position) rather than silently becoming `<unk>`: input files are cleaned and
   * reported by their parsers, so an unknown symbol here is a bug upstream.
   */
  residueIds(sequence: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < sequence.length; i++) {
      const c = sequence.charCodeAt(i);
      const id = c < 128 ? this.charIds[c] : -1;
      if (id >= 0) {
        out.push(id);
        continue;
      }
      if (c === 60 /* '<' */) {
        const close = sequence.indexOf('>', i);
        const special = close > i ? this.specials.get(sequence.slice(i, close + 1)) : undefined;
        if (special !== undefined) {
          out.push(special);
          i = close;
          continue;
        }
      }
      throw new Error(`cannot tokenize '${sequence[i]}' at position ${i + 1}: not in the ESM alphabet`);
    }
    return out;
  }

  /** `<cls>` + residues + `<eos>`. */
  encode(sequence: string): Int32Array {
    const r = this.residueIds(sequence);
    const out = new Int32Array(r.length + 2);
    out[0] = this.clsId;
    out.set(r, 1);
    out[r.length + 1] = this.eosId;
    return out;
  }

  /** Tokens back to a string; `<cls>`, `<eos>` and `<pad>` are dropped, other specials kept literally. */
  decode(ids: ArrayLike<number | bigint>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = Number(ids[i]);
      if (id === this.clsId || id === this.eosId || id === this.padId) continue;
      const t = this.tokens[id];
      if (t === undefined) throw new Error(`token id ${id} out of range (vocabulary of ${this.vocabSize})`);
      s += t;
    }
    return s;
  }

  /** Encode several sequences, right-padded with `<pad>` to the longest. */
  encodeBatch(sequences: readonly string[], kind: 'int32'): EncodedBatch<Int32Array>;
  encodeBatch(sequences: readonly string[], kind: 'int64'): EncodedBatch<BigInt64Array>;
  encodeBatch(sequences: readonly string[]): EncodedBatch<Int32Array>;
  encodeBatch(sequences: readonly string[], kind: IdArrayKind = 'int32'): EncodedBatch {
    const encoded = sequences.map((s) => this.encode(s));
    const batch = encoded.length;
    const maxLen = encoded.reduce((m, e) => Math.max(m, e.length), 0);
    const lengths = Int32Array.from(encoded, (e) => e.length);
    if (kind === 'int32') {
      const ids = new Int32Array(batch * maxLen).fill(this.padId);
      encoded.forEach((e, b) => ids.set(e, b * maxLen));
      return { ids, lengths, batch, maxLen };
    }
    const ids = new BigInt64Array(batch * maxLen).fill(BigInt(this.padId));
    encoded.forEach((e, b) => {
      for (let j = 0; j < e.length; j++) ids[b * maxLen + j] = BigInt(e[j]);
    });
    return { ids, lengths, batch, maxLen };
  }
}
