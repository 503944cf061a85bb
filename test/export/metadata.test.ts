import { describe, expect, it } from 'vitest';
import {
  isoToMicros,
  keyValuesToPointFileMetadata,
  microsToIso,
  OCTA_KEYS,
  type PointFileMetadata,
  pointFileMetadataToKeyValues,
} from '../../src/export/index.js';
import { OctaError } from '../../src/lattice/index.js';
import { makeRandom } from './fixtures.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof OctaError ? error.code : 'not an OctaError';
  }
  return undefined;
}

const META: PointFileMetadata = {
  schemaVersion: 1,
  frame: { id: 3, kind: 'enu', anchor: { lat: 47.1, lon: 8.5, h: 400 } },
  lod: 12,
  idKind: 'hilbert64',
  rows: 123,
  cellMin: -(1n << 63n),
  cellMax: -1n,
  timeMin: -1n,
  timeMax: 1_700_000_000_123_456n,
};

describe('timestamps in the footer', () => {
  it('prints microseconds as ISO 8601 UTC with six digits, before and after 1970', () => {
    expect(microsToIso(0n)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(microsToIso(1_700_000_000_123_456n)).toBe('2023-11-14T22:13:20.123456Z');
  });

  it('parses what it prints, and other zones and precisions', () => {
    const random = makeRandom(5);
    for (let i = 0; i < 200; i++) {
      const micros = BigInt(Math.floor((random() - 0.5) * 2 ** 53));
      expect(isoToMicros(microsToIso(micros))).toBe(micros);
    }
    expect(isoToMicros('2023-11-15T00:13:20.5+02:00')).toBe(1_700_000_000_500_000n);
    expect(isoToMicros('2023-11-14T22:13:20.123456789Z')).toBe(1_700_000_000_123_456n);
    expect(isoToMicros('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000_000n);
    for (const bad of ['2023-11-14', '2023-11-14T22:13:20', 'yesterday', '2023-13-45T99:00:00Z']) {
      expect(codeOf(() => isoToMicros(bad))).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('octa.* keys', () => {
  it('round-trip every field as strings', () => {
    const kv = pointFileMetadataToKeyValues(META);
    expect(kv).toEqual({
      'octa.schema_version': '1',
      'octa.frame': JSON.stringify(META.frame),
      'octa.lod': '12',
      'octa.id_kind': 'hilbert64',
      'octa.cell_min': '-9223372036854775808',
      'octa.cell_max': '-1',
      'octa.time_min': '1969-12-31T23:59:59.999999Z',
      'octa.time_max': '2023-11-14T22:13:20.123456Z',
      'octa.rows': '123',
    });
    expect(keyValuesToPointFileMetadata({ ...kv, unrelated: 'x' })).toEqual(META);
  });

  it('rejects bad descriptors when writing and damaged footers when reading', () => {
    expect(codeOf(() => pointFileMetadataToKeyValues({ ...META, lod: 16 }))).toBe('INVALID_LOD');
    expect(codeOf(() => pointFileMetadataToKeyValues({ ...META, idKind: 'route64' as never }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => pointFileMetadataToKeyValues({ ...META, frame: [] as never }))).toBe(
      'INVALID_ARGUMENT',
    );
    const kv = pointFileMetadataToKeyValues(META);
    const damaged: Record<string, string>[] = [
      Object.fromEntries(Object.entries(kv).filter(([k]) => k !== OCTA_KEYS.cellMax)),
      { ...kv, [OCTA_KEYS.cellMin]: '0x10' },
      { ...kv, [OCTA_KEYS.timeMin]: 'noon' },
      { ...kv, [OCTA_KEYS.frame]: '{' },
      { ...kv, [OCTA_KEYS.lod]: '99' },
      { ...kv, [OCTA_KEYS.idKind]: 'galactic128' },
    ];
    for (const bad of damaged) expect(codeOf(() => keyValuesToPointFileMetadata(bad))).toBe('CORRUPT');
  });
});
