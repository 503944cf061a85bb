/**
 * Raw LAS point records to columns, for both the LAS reader and the decompressed LAZ records.
 * Coordinates are `X * scale + offset` evaluated in double precision, exactly as written.
 */
import type { LasHeader } from './las-header.js';
import { recordLayout } from './las-header.js';
import type { ColumnData } from './types.js';

/**
 * Decodes point records.
 * @param options.records - `count` records back to back, `header.recordLength` bytes each
 * @param options.count - number of records
 * @param options.header - the file's header
 * @param options.names - the columns to decode (from `lasColumns`)
 * @returns the columns by name
 */
export function lasRecordsToColumns({
  records,
  count,
  header,
  names,
}: {
  records: Uint8Array;
  count: number;
  header: LasHeader;
  names: readonly string[];
}): Record<string, ColumnData> {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const stride = header.recordLength;
  const layout = recordLayout(header.info.pointFormat);
  const [sx, sy, sz] = header.info.scale;
  const [ox, oy, oz] = header.info.offset;
  const out: Record<string, ColumnData> = {};
  const float = (at: (o: number) => number) => {
    const values = new Float64Array(count);
    for (let i = 0, o = 0; i < count; i++, o += stride) values[i] = at(o);
    return { type: 'float64' as const, values };
  };
  const int = (at: (o: number) => number) => {
    const values = new Int32Array(count);
    for (let i = 0, o = 0; i < count; i++, o += stride) values[i] = at(o);
    return { type: 'int32' as const, values };
  };
  for (const name of names) {
    switch (name) {
      case 'x':
        out.x = float((o) => view.getInt32(o, true) * sx + ox);
        break;
      case 'y':
        out.y = float((o) => view.getInt32(o + 4, true) * sy + oy);
        break;
      case 'z':
        out.z = float((o) => view.getInt32(o + 8, true) * sz + oz);
        break;
      case 'intensity':
        out.intensity = int((o) => view.getUint16(o + 12, true));
        break;
      case 'return_number':
        out.return_number = int((o) => view.getUint8(o + 14) & (layout.extended ? 0x0f : 0x07));
        break;
      case 'number_of_returns':
        out.number_of_returns = int((o) =>
          layout.extended ? view.getUint8(o + 14) >> 4 : (view.getUint8(o + 14) >> 3) & 0x07,
        );
        break;
      case 'classification':
        // Formats 0–5 keep synthetic/key-point/withheld flags in the top three bits.
        out.classification = int(
          (o) => view.getUint8(o + layout.classification) & (layout.extended ? 0xff : 0x1f),
        );
        break;
      case 'gps_time':
        out.gps_time = float((o) => view.getFloat64(o + layout.gpsTime, true));
        break;
      case 'red':
        out.red = int((o) => view.getUint16(o + layout.rgb, true));
        break;
      case 'green':
        out.green = int((o) => view.getUint16(o + layout.rgb + 2, true));
        break;
      case 'blue':
        out.blue = int((o) => view.getUint16(o + layout.rgb + 4, true));
        break;
    }
  }
  return out;
}
