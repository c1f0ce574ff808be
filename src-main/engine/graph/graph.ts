// The graph being built: tensors (typed, shaped values), nodes (ONNX ops) and the few
// bookkeeping tables the builder needs (constants, symbolic dims, cached runtime shapes).
// A graph is append-only; serialization keeps only what the requested outputs need.

import { type Dim, type Shape, dim, shapeStr } from './dims.js';

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'bool';
export const FLOAT_TYPES: readonly DType[] = ['float32', 'float64', 'float16'];
export const isFloat = (d: DType): boolean => FLOAT_TYPES.includes(d);

export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; dtype: DType; value: readonly number[] };
export const attr = {
  i: (value: number): Attr => ({ type: 'int', value }),
  f: (value: number): Attr => ({ type: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ type: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ type: 'floats', value }),
  s: (value: string): Attr => ({ type: 'string', value }),
  tensor: (dtype: DType, value: readonly number[]): Attr => ({ type: 'tensor', dtype, value }),
};

/** Where an initializer's bytes live when they are not inline: a file region (e.g. inside model.safetensors). */
export interface ExternalRef {
  path: string;
  offset: number;
  length: number;
}

export interface InitializerData {
  data?: TypedData;
  external?: ExternalRef;
}

export type TensorKind = 'input' | 'initializer' | 'node';

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: TensorKind,
    readonly producer: Node | null = null,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
  toString(): string {
    return `'${this.name}' ${this.dtype}${shapeStr(this.shape)}`;
  }
}

export class Node {
  constructor(
    readonly op: string,
    readonly inputs: readonly (Tensor | null)[],
    readonly attrs: Readonly<Record<string, Attr>>,
    readonly outputs: Tensor[],
    readonly name: string,
  ) {}
}

export class GraphError extends Error {
  override name = 'GraphError';
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly initializers = new Map<Tensor, InitializerData>();
  /** symbol -> the graph input and axis that carries it at run time */
  readonly symbols = new Map<string, { tensor: Tensor; axis: number }>();
  /** caches used by builders so the same helper value is emitted once */
  readonly cache = new Map<string, Tensor>();
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'plmw') {}

  uniqueName(base: string): string {
    let n = base;
    while (this.names.has(n)) n = `${base}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** A graph input. String dims name symbols; the first input that names a symbol defines it. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    if (this.names.has(name)) throw new GraphError(`input '${name}': name already used in graph '${this.name}'`);
    this.names.add(name);
    const t = new Tensor(this, name, dtype, shape.map(dim), 'input');
    shape.forEach((d, axis) => {
      if (typeof d === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d) && !this.symbols.has(d)) this.symbols.set(d, { tensor: t, axis });
    });
    this.inputs.push(t);
    return t;
  }

  initializer(name: string, dtype: DType, shape: readonly number[], data: InitializerData): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.data && data.data.length !== n)
      throw new GraphError(`initializer '${name}': ${data.data.length} values for shape ${shapeStr(shape)} (${n} expected)`);
    if (data.external && data.external.length !== n * bytesPerElement(dtype))
      throw new GraphError(`initializer '${name}': external region holds ${data.external.length} bytes, shape ${shapeStr(shape)} needs ${n * bytesPerElement(dtype)}`);
    const t = new Tensor(this, this.uniqueName(name), dtype, shape, 'initializer');
    this.initializers.set(t, data);
    return t;
  }

  /** Emit one node; output types are given by the op builder after it has checked its operands. */
  node(op: string, inputs: readonly (Tensor | null)[], attrs: Record<string, Attr>, outputs: { dtype: DType; shape: Shape }[]): Tensor[] {
    for (const t of inputs)
      if (t && t.graph !== this) throw new GraphError(`${op}: operand ${t} belongs to another graph`);
    const nodeName = this.uniqueName(op.slice(op.lastIndexOf(':') + 1));
    const outs: Tensor[] = [];
    const node = new Node(op, inputs, attrs, outs, nodeName);
    outputs.forEach((o, i) => outs.push(new Tensor(this, outputs.length === 1 ? nodeName : `${nodeName}:${i}`, o.dtype, o.shape.map(dim), 'node', node)));
    this.nodes.push(node);
    return outs;
  }
}

export function bytesPerElement(d: DType): number {
  switch (d) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
      return 2;
    case 'bool':
      return 1;
  }
}

export function dimOf(t: Tensor, axis: number): Dim {
  return t.shape[axis < 0 ? axis + t.rank : axis];
}
