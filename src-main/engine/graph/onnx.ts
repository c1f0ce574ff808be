// Serialization of a built graph to an ONNX ModelProto (onnx-buf schema, @bufbuild/protobuf).
// Only what the requested outputs need is emitted (dead nodes, initializers and inputs are
// dropped). Large initializers go to an external data file, or point straight into a file that
// already holds them (e.g. model.safetensors), so multi-hundred-megabyte models never pass
// through one protobuf.

import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema,
  OperatorSetIdProtoSchema, StringStringEntryProtoSchema, TensorProtoSchema, TensorProto_DataLocation,
  TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
  type AttributeProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';
import type { Shape } from './dims.js';
import { type Attr, type DType, type Graph, GraphError, type InitializerData, type Node, type Tensor, type TypedData } from './graph.js';
import { OPSET, onnxDType } from './ops.js';

export const IR_VERSION = 10n;

export interface SerializeOptions {
  /** Graph outputs by name. */
  outputs: Record<string, Tensor>;
  /** File name (relative to the model file) for inline initializers above the threshold; omit to keep them inline. */
  externalDataFile?: string;
  /** Bytes above which an inline initializer goes to the external file (default 1 KiB). */
  externalThreshold?: number;
  /** Rewrites an ExternalRef path as seen from the model file's directory. */
  externalPath?: (path: string) => string;
  docString?: string;
}

export interface SerializedModel {
  model: Uint8Array;
  /** The external data file's contents, when initializers went there. */
  externalData: Uint8Array[] | null;
  externalDataFile: string | null;
  /** Graph input names the model kept (unused inputs are dropped). */
  inputNames: string[];
  outputNames: string[];
  nodeCount: number;
}

function bytesOf(d: TypedData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function valueInfo(name: string, dtype: DType, shape: Shape): ValueInfoProto {
  const dims = shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, { value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d } }),
  );
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: onnxDType(dtype), shape: create(TensorShapeProtoSchema, { dim: dims }) }) },
    }),
  });
}

function attribute(name: string, a: Attr): AttributeProto {
  const T = AttributeProto_AttributeType;
  switch (a.type) {
    case 'int':
      return create(AttributeProtoSchema, { name, type: T.INT, i: BigInt(a.value) });
    case 'float':
      return create(AttributeProtoSchema, { name, type: T.FLOAT, f: a.value });
    case 'ints':
      return create(AttributeProtoSchema, { name, type: T.INTS, ints: a.value.map((v) => BigInt(v)) });
    case 'floats':
      return create(AttributeProtoSchema, { name, type: T.FLOATS, floats: [...a.value] });
    case 'string':
      return create(AttributeProtoSchema, { name, type: T.STRING, s: new TextEncoder().encode(a.value) });
    case 'tensor':
      return create(AttributeProtoSchema, { name, type: T.TENSOR, t: inlineTensor('value', a.dtype, [1], typedFrom(a.dtype, a.value)) });
  }
}

function typedFrom(dtype: DType, v: readonly number[]): TypedData {
  switch (dtype) {
    case 'float32': return Float32Array.from(v);
    case 'float64': return Float64Array.from(v);
    case 'int64': return BigInt64Array.from(v.map((x) => BigInt(x)));
    case 'int32': return Int32Array.from(v);
    case 'bool': return Uint8Array.from(v);
    case 'float16': throw new GraphError('float16 attribute tensors are not supported');
  }
}

function inlineTensor(name: string, dtype: DType, shape: readonly number[], data: TypedData): TensorProto {
  return create(TensorProtoSchema, { name, dataType: onnxDType(dtype), dims: shape.map((d) => BigInt(d)), rawData: bytesOf(data).slice() });
}

function externalTensor(name: string, dtype: DType, shape: readonly number[], location: string, offset: number, length: number): TensorProto {
  const kv = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  return create(TensorProtoSchema, {
    name, dataType: onnxDType(dtype), dims: shape.map((d) => BigInt(d)), dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [kv('location', location), kv('offset', String(offset)), kv('length', String(length))],
  });
}

/** The nodes, initializers and inputs the outputs depend on, in build (= topological) order. */
export function liveSet(g: Graph, outputs: Tensor[]): { nodes: Node[]; tensors: Set<Tensor> } {
  const tensors = new Set<Tensor>();
  const nodes = new Set<Node>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (tensors.has(t)) continue;
    tensors.add(t);
    const p = t.producer;
    if (p && !nodes.has(p)) {
      nodes.add(p);
      for (const i of p.inputs) if (i) stack.push(i);
    }
  }
  return { nodes: g.nodes.filter((n) => nodes.has(n)), tensors };
}

export function serialize(g: Graph, opts: SerializeOptions): SerializedModel {
  const outEntries = Object.entries(opts.outputs);
  if (outEntries.length === 0) throw new GraphError(`graph '${g.name}': no outputs requested`);
  for (const [name, t] of outEntries) if (t.graph !== g) throw new GraphError(`output '${name}' belongs to another graph`);
  const { nodes, tensors } = liveSet(g, outEntries.map(([, t]) => t));

  // Output names: rename a node's own output when it is used once as an output; otherwise add Identity.
  const rename = new Map<Tensor, string>();
  const extra: ReturnType<typeof create<typeof NodeProtoSchema>>[] = [];
  const taken = new Set<string>();
  for (const [name, t] of outEntries) {
    if (taken.has(name)) throw new GraphError(`output name '${name}' given twice`);
    taken.add(name);
    if (t.kind === 'node' && !rename.has(t) && !g.inputs.some((i) => i.name === name)) rename.set(t, name);
    else extra.push(create(NodeProtoSchema, { opType: 'Identity', input: [t.name], output: [name], name: `output_${name}` }));
  }
  const nm = (t: Tensor | null) => (t ? rename.get(t) ?? t.name : '');

  // 'domain:Op' names an operator outside the ONNX domain (onnxruntime's com.microsoft contrib ops).
  const domains = new Set<string>();
  const nodeProtos = nodes.map((n) => {
    const at = n.op.lastIndexOf(':');
    const domain = at < 0 ? '' : n.op.slice(0, at);
    if (domain) domains.add(domain);
    return create(NodeProtoSchema, {
      opType: n.op.slice(at + 1), domain, name: n.name, input: n.inputs.map(nm), output: n.outputs.map(nm),
      attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a)),
    });
  });

  const threshold = opts.externalThreshold ?? 1024;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initProtos: TensorProto[] = [];
  for (const [t, data] of g.initializers) {
    if (!tensors.has(t)) continue;
    initProtos.push(initializerProto(t, data));
  }
  function initializerProto(t: Tensor, data: InitializerData): TensorProto {
    const shape = t.shape as number[];
    if (data.external) {
      const loc = opts.externalPath ? opts.externalPath(data.external.path) : data.external.path;
      return externalTensor(t.name, t.dtype, shape, loc, data.external.offset, data.external.length);
    }
    const d = data.data!;
    if (opts.externalDataFile && d.byteLength > threshold) {
      const pad = (64 - (offset % 64)) % 64; // aligned regions let the runtime map them directly
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
      chunks.push(bytesOf(d));
      const p = externalTensor(t.name, t.dtype, shape, opts.externalDataFile, offset, d.byteLength);
      offset += d.byteLength;
      return p;
    }
    return inlineTensor(t.name, t.dtype, shape, d);
  }

  const inputs = g.inputs.filter((t) => tensors.has(t));
  const graph = create(GraphProtoSchema, {
    name: g.name,
    node: [...nodeProtos, ...extra],
    initializer: initProtos,
    input: inputs.map((t) => valueInfo(t.name, t.dtype, t.shape)),
    output: outEntries.map(([name, t]) => valueInfo(name, t.dtype, t.shape)),
  });
  const model = create(ModelProtoSchema, {
    irVersion: IR_VERSION,
    producerName: 'plm-workbench',
    docString: opts.docString ?? '',
    opsetImport: [
      create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(OPSET) }),
      ...[...domains].map((domain) => create(OperatorSetIdProtoSchema, { domain, version: 1n })),
    ],
    graph,
  });
  return {
    model: toBinary(ModelProtoSchema, model),
    externalData: chunks.length ? chunks : null,
    externalDataFile: chunks.length ? opts.externalDataFile! : null,
    inputNames: inputs.map((t) => t.name),
    outputNames: outEntries.map(([n]) => n),
    nodeCount: nodes.length + extra.length,
  };
}
