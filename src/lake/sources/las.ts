/**
 * Uncompressed LAS source: our own front-to-back reader of point records (formats 0–10), so files
 * and stdin stream alike and memory holds one chunk of records. A file shorter than its header
 * promises fails at open; a stream that ends early fails when the records run out.
 */
import { OctaError } from '../../lattice/errors.js';
import { chunksOnce, typedChunk } from './chunk.js';
import { BlockReader, type ByteInput } from './input.js';
import { type LasHeader, LasPointCheck, lasColumns } from './las-header.js';
import { lasRecordsToColumns } from './las-records.js';
import type { Source, SourceChunk } from './types.js';

function truncated(name: string, header: LasHeader, have: number): OctaError {
  const need = header.offsetToPoints + header.info.count * header.recordLength;
  return new OctaError(
    'INVALID_INPUT',
    `${name}: LAS file is truncated: the header promises ${header.info.count} points of ${header.recordLength} bytes from byte ${header.offsetToPoints} (${need} bytes) but the input has ${have}`,
    name,
  );
}

/** The header's point count leaves records in the input that it does not count. */
function uncounted(name: string, header: LasHeader, have: number | string): OctaError {
  const end = header.offsetToPoints + header.info.count * header.recordLength;
  return new OctaError(
    'INVALID_INPUT',
    `${name}: the LAS header's point count ${header.info.count} disagrees with the file: its ${header.recordLength}-byte records from byte ${header.offsetToPoints} end at byte ${end} but the input has ${have}`,
    { field: 'point count', count: header.info.count, end, have },
  );
}

/**
 * Opens an uncompressed LAS input whose header is already parsed.
 * @param input - the bytes
 * @param header - the parsed header (not compressed)
 * @returns the source
 * @throws {OctaError} INVALID_INPUT when the file is shorter than the header promises, or longer
 * without a waveform or extended VLR section to account for the rest; reading fails with
 * INVALID_INPUT when the points disagree with the header's bounds (`LasPointCheck`)
 */
export function openLasSource(input: ByteInput, header: LasHeader): Source {
  const { count, pointFormat } = header.info;
  const need = header.offsetToPoints + count * header.recordLength;
  if (input.size !== undefined && input.size < need) throw truncated(input.name, header, input.size);
  if (input.size !== undefined && input.size > need && header.following !== need)
    throw uncounted(input.name, header, `${input.size} bytes`);
  const columns = lasColumns(pointFormat);

  async function* read(chunkRows: number, names: string[]): AsyncGenerator<SourceChunk> {
    const reader = BlockReader.create(input.blocks());
    const check = new LasPointCheck(header, input.name);
    if ((await reader.skip(header.offsetToPoints)) < header.offsetToPoints)
      throw truncated(input.name, header, reader.position);
    for (let done = 0; done < count; ) {
      const n = Math.min(chunkRows, count - done);
      const records = await reader.read(n * header.recordLength);
      if (records.length < n * header.recordLength) throw truncated(input.name, header, reader.position);
      check.add(records, n);
      yield typedChunk(
        done + 1,
        lasRecordsToColumns({ records, count: n, header, names }),
        n,
        reader.position,
      );
      done += n;
    }
    check.finish();
    // A stream has no size to hold the count against: nothing may follow the counted records.
    if (input.size === undefined && header.following !== need && (await reader.read(1)).length > 0)
      throw uncounted(input.name, header, 'more bytes');
  }

  return {
    format: 'las',
    columns,
    identity: input.identity,
    lasHeader: header.info,
    chunks: chunksOnce(columns, input.name, ({ chunkRows, selected }) =>
      read(
        chunkRows,
        selected.map((c) => c.name),
      ),
    ),
    close: () => input.close(),
  };
}
