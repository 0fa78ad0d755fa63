/**
 * Counts a model's multiply-accumulates from its ONNX graph, read with a minimal protobuf decoder
 * (ModelProto.graph → nodes and initializers; no dependency). Weight products (MatMul, Gemm and
 * their quantised forms with a 2-D initializer operand) cost K×N MACs per input row (per token for
 * a transformer, per post for a bag-of-features model). Products of two activations (attention's
 * QKᵀ and AV) cost L×hidden MACs per token at sequence length L, counted separately.
 */
import { readFileSync } from 'node:fs';

interface Field {
  readonly no: number;
  readonly wire: number;
  readonly bytes?: Uint8Array;
  readonly varint?: bigint;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, varint: varint() };
    else if (wire === 1) {
      pos += 8;
      yield { no, wire };
    } else if (wire === 5) {
      pos += 4;
      yield { no, wire };
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

function packedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(result);
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
}

export interface OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  /** Initializer name → dims. */
  readonly initializers: ReadonlyMap<string, readonly number[]>;
  /** Initializer name → ONNX data type (1 float, 2 uint8, 3 int8, 7 int64, 10 float16, ...). */
  readonly types: ReadonlyMap<string, number>;
}

const TYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 10: 'float16', 16: 'bfloat16' };

export function readOnnxGraph(path: string): OnnxGraph {
  const model = readFileSync(path);
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, number[]>();
  const types = new Map<string, number>();
  for (const f of fields(model)) {
    if (f.no !== 7 || !f.bytes) continue; // ModelProto.graph
    for (const g of fields(f.bytes)) {
      if (g.no === 1 && g.bytes) {
        // GraphProto.node
        const inputs: string[] = [];
        let opType = '';
        for (const n of fields(g.bytes)) {
          if (n.no === 1) inputs.push(text(n.bytes));
          if (n.no === 4) opType = text(n.bytes);
        }
        nodes.push({ opType, inputs });
      } else if (g.no === 5 && g.bytes) {
        // GraphProto.initializer (TensorProto)
        const dims: number[] = [];
        let name = '';
        let type = 0;
        for (const t of fields(g.bytes)) {
          if (t.no === 1) {
            if (t.wire === 0) dims.push(Number(t.varint));
            else if (t.bytes) dims.push(...packedVarints(t.bytes).map(Number));
          }
          if (t.no === 2 && t.wire === 0) type = Number(t.varint);
          if (t.no === 8) name = text(t.bytes);
        }
        initializers.set(name, dims);
        types.set(name, type);
      }
    }
  }
  return { nodes, initializers, types };
}

const WEIGHT_PRODUCTS = new Set([
  'MatMul',
  'Gemm',
  'MatMulInteger',
  'QLinearMatMul',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'QGemm',
  'FusedMatMul',
  'MatMulNBits',
]);

export interface MacCount {
  /** MACs per input row (token or post) in products with a weight matrix. */
  readonly weightMacsPerRow: number;
  /** Weight products and how many are int8 (quantised ops). */
  readonly weightProducts: number;
  readonly int8Products: number;
  /** Activation × activation products (attention), each L×hidden MACs per token. */
  readonly activationProducts: number;
  /** The most common inner dimension of the weight products (the model width). */
  readonly hidden: number;
  /** Rows and width of the largest gather table (embeddings). */
  readonly embeddingRows: number;
  readonly embeddingWidth: number;
  readonly embeddingType: string;
  readonly opCounts: Record<string, number>;
}

export function countMacs(path: string): MacCount {
  const { nodes, initializers, types } = readOnnxGraph(path);
  let embeddingType = '';
  let weightMacsPerRow = 0;
  let weightProducts = 0;
  let int8Products = 0;
  let activationProducts = 0;
  let embeddingRows = 0;
  let embeddingWidth = 0;
  const inner = new Map<number, number>();
  const opCounts: Record<string, number> = {};
  for (const node of nodes) {
    opCounts[node.opType] = (opCounts[node.opType] ?? 0) + 1;
    if (node.opType === 'Gather') {
      const table = initializers.get(node.inputs[0] ?? '');
      if (table && table.length === 2 && (table[0] as number) > embeddingRows) {
        embeddingRows = table[0] as number;
        embeddingWidth = table[1] as number;
        const t = types.get(node.inputs[0] ?? '') ?? 0;
        embeddingType = TYPE_NAMES[t] ?? `type ${t}`;
      }
    }
    if (!WEIGHT_PRODUCTS.has(node.opType)) continue;
    const weight = node.inputs.map((i) => initializers.get(i)).find((d) => d !== undefined && d.length === 2);
    if (weight) {
      const [k, n] = weight as [number, number];
      weightMacsPerRow += k * n;
      weightProducts += 1;
      inner.set(Math.min(k, n), (inner.get(Math.min(k, n)) ?? 0) + 1);
      if (node.opType !== 'MatMul' && node.opType !== 'Gemm' && node.opType !== 'FusedMatMul') int8Products += 1;
    } else if (node.opType === 'MatMul' || node.opType === 'FusedMatMul') {
      activationProducts += 1;
    }
  }
  const hidden = [...inner.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  return { weightMacsPerRow, weightProducts, int8Products, activationProducts, hidden, embeddingRows, embeddingWidth, embeddingType, opCounts };
}

/** MACs of one batch: rows = tokens summed over the batch at padded length L (or posts for a bag model). */
export function macsOfBatch(c: MacCount, batch: number, paddedLength: number, perToken: boolean): number {
  if (!perToken) return batch * c.weightMacsPerRow;
  const tokens = batch * paddedLength;
  return tokens * c.weightMacsPerRow + c.activationProducts * batch * paddedLength * paddedLength * c.hidden;
}

/**
 * Operations of one batch: 2 per MAC, plus for a bag-of-features model the gather-and-sum of
 * the embedding table (one add per feature slot and table column). `slots` = the feature slots
 * (tokens or features) fed for the whole batch, padding included.
 */
export function opsOfBatch(c: MacCount, batch: number, slots: number, perToken: boolean): number {
  if (perToken) return 2 * macsOfBatch(c, batch, slots / Math.max(1, batch), true);
  return 2 * macsOfBatch(c, batch, 1, false) + slots * c.embeddingWidth;
}
