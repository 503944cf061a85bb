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
  const f32 = (values: Float32Array) =>
    makeData({ type: new Float32(), length: values.length, data: values });
  const columns: [string, Data][] = [
    ['cell', makeData({ type: new Int64(), length: n, data: shard.cell })],
    ['block', makeData({ type: new Int64(), length: n, data: shard.block })],
    ['split', vectorFromArray(new Array<string>(n).fill(shard.split), new Utf8()).data[0]!],
    ['lattice', fixedList(makeData({ type: new Int32(), length: 3 * n, data: shard.lattice }), 3, n)],
    ['position', fixedList(makeData({ type: new Float64(), length: 3 * n, data: shard.position }), 3, n)],
    ['features', fixedList(f32(shard.features), featureCount, n)],
    ['neighbors', fixedList(fixedList(f32(shard.neighbors), featureCount, n * slots), slots, n)],
    [
      'neighbor_mask',
      fixedList(makeData({ type: new Uint8(), length: slots * n, data: shard.mask }), slots, n),
    ],
  ];
  const fields = columns.map(([name, data]) => new Field(name, data.type, false));
  if (shard.labels !== undefined) {
    const { type, values } = shard.labels;
    const arrowType = type === 'int64' ? new Int64() : type === 'float64' ? new Float64() : new Utf8();
    const data = vectorFromArray(values as never[], arrowType).data[0]!;
    columns.push(['label', data]);
    fields.push(new Field('label', arrowType, true));
  }
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: n, children: columns.map(([, d]) => d) });
  return new Table(schema, new RecordBatch(schema, struct));
}
