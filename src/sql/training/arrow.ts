/**
 * One shard of a training set as an Arrow table: fixed-size list columns built straight from the
 * shard's typed arrays (docs/TRAINING.md "Columns").
 */
import {
  type Data,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint8,
  Uint16,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';

/** The Arrow type of a label column: integers, doubles or text. */
export type LabelType = 'int64' | 'float64' | 'utf8';

/** The columns of one shard, `n` rows, F features, S neighbour slots. */
export interface TrainingShard {
  /** Sample cell ids (INT64 form), ascending. */
  cell: BigInt64Array;
  /** Block id of each sample. */
  block: BigInt64Array;
  split: string;
  /** Lattice coordinates at the sample LOD, 3 per row. */
  lattice: Int32Array;
  /** Cell centres in frame metres, 3 per row. */
  position: Float64Array;
  /** The cell's own features, F per row. */
  features: Float32Array;
  /** Neighbour features, S × F per row, zero where the mask is 0. */
  neighbors: Float32Array;
  /** 1 where neighbour slot s holds a cell with points, S per row. */
  mask: Uint8Array;
  /** One label per row (null for a cell whose points carry none), when a label column is asked for. */
  labels?: { type: LabelType; values: (string | number | bigint | null)[] };
}

function fixedList(child: Data, size: number, rows: number): Data<FixedSizeList> {
  const type = new FixedSizeList(size, new Field('item', child.type, false));
  return makeData({ type, length: rows, child });
}

function table(columns: [string, Data][], labels: TrainingShard['labels'], n: number): Table {
  const fields = columns.map(([name, data]) => new Field(name, data.type, false));
  if (labels !== undefined) {
    const { type, values } = labels;
    const arrowType = type === 'int64' ? new Int64() : type === 'float64' ? new Float64() : new Utf8();
    const data = vectorFromArray(values as never[], arrowType).data[0]!;
    columns.push(['label', data]);
    fields.push(new Field('label', arrowType, true));
  }
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: n, children: columns.map(([, d]) => d) });
  return new Table(schema, new RecordBatch(schema, struct));
}

const f32 = (values: Float32Array) => makeData({ type: new Float32(), length: values.length, data: values });

/** A Utf8 column of `n` copies of one string, built as offsets over repeated bytes. */
function repeatedUtf8(text: string, n: number): Data<Utf8> {
  const bytes = new TextEncoder().encode(text);
  const data = new Uint8Array(bytes.length * n);
  const valueOffsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    data.set(bytes, i * bytes.length);
    valueOffsets[i + 1] = (i + 1) * bytes.length;
  }
  return makeData({ type: new Utf8(), length: n, data, valueOffsets });
}

/** The columns a sample and a graph node share: cell, block, split, lattice, position, features. */
function cellColumns(shard: TrainingShard, featureCount: number): [string, Data][] {
  const n = shard.cell.length;
  return [
    ['cell', makeData({ type: new Int64(), length: n, data: shard.cell })],
    ['block', makeData({ type: new Int64(), length: n, data: shard.block })],
    ['split', repeatedUtf8(shard.split, n)],
    ['lattice', fixedList(makeData({ type: new Int32(), length: 3 * n, data: shard.lattice }), 3, n)],
    ['position', fixedList(makeData({ type: new Float64(), length: 3 * n, data: shard.position }), 3, n)],
    ['features', fixedList(f32(shard.features), featureCount, n)],
  ];
}

/**
 * Builds a shard's Arrow table: `cell`, `block` (Int64), `split` (Utf8), `lattice` (FixedSizeList
 * [3] of Int32), `position` ([3] Float64), `features` ([F] Float32), `neighbors` ([S] of [F] Float32),
 * `neighbor_mask` ([S] Uint8) and, with labels, `label`.
 * @param shard - the shard's columns
 * @param featureCount - F
 * @param slots - S
 * @returns the table, one record batch
 */
export function trainingShardToArrow(shard: TrainingShard, featureCount: number, slots: number): Table {
  const n = shard.cell.length;
  const columns = cellColumns(shard, featureCount);
  columns.push(
    ['neighbors', fixedList(fixedList(f32(shard.neighbors), featureCount, n * slots), slots, n)],
    [
      'neighbor_mask',
      fixedList(makeData({ type: new Uint8(), length: slots * n, data: shard.mask }), slots, n),
    ],
  );
  return table(columns, shard.labels, n);
}

/**
 * Builds a graph node table: `node` (Int64, the node index within its split) and the sample's
 * columns without the neighbourhood: `cell`, `block`, `split`, `lattice`, `position`, `features`
 * and, with labels, `label`.
 * @param shard - the shard's columns (`neighbors` and `mask` are not read)
 * @param firstNode - the node index of the shard's first row
 * @param featureCount - F
 * @returns the table, one record batch
 */
export function trainingNodesToArrow(shard: TrainingShard, firstNode: number, featureCount: number): Table {
  const n = shard.cell.length;
  const node = new BigInt64Array(n);
  for (let i = 0; i < n; i++) node[i] = BigInt(firstNode + i);
  const columns: [string, Data][] = [
    ['node', makeData({ type: new Int64(), length: n, data: node })],
    ...cellColumns(shard, featureCount),
  ];
  return table(columns, shard.labels, n);
}

/**
 * Builds an edge table, one row per directed neighbour pair: `src` and `dst` node indices (Int64,
 * PyTorch Geometric's `edge_index` rows) and `slot` (Uint16, dst's neighbour slot of src).
 * @param edges - src, dst and slot, one entry per edge
 * @returns the table, one record batch
 */
export function trainingEdgesToArrow(edges: {
  src: BigInt64Array;
  dst: BigInt64Array;
  slot: Uint16Array;
}): Table {
  const n = edges.src.length;
  const columns: [string, Data][] = [
    ['src', makeData({ type: new Int64(), length: n, data: edges.src })],
    ['dst', makeData({ type: new Int64(), length: n, data: edges.dst })],
    ['slot', makeData({ type: new Uint16(), length: n, data: edges.slot })],
  ];
  return table(columns, undefined, n);
}
