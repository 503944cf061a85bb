import { describe, expect, it } from 'vitest';
import {
  checkColumnName,
  createPointSchema,
  isSameSchema,
  isValidColumnName,
  POINT_SCHEMA_VERSION,
  REQUIRED_COLUMNS,
} from '../../src/export/index.js';
import { OctaError } from '../../src/lattice/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof OctaError ? error.code : 'not an OctaError';
  }
  return undefined;
}

describe('point schema', () => {
  it('puts the required columns first, typed and non-nullable, then the payload', () => {
    const schema = createPointSchema({ payload: [{ name: 'intensity', type: 'float64' }] });
    expect(POINT_SCHEMA_VERSION).toBe(1);
    expect(schema.version).toBe(1);
    expect(schema.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['cell', 'int64', false],
      ['x', 'float64', false],
      ['y', 'float64', false],
      ['z', 'float64', false],
      ['time', 'timestamp_us', false],
      ['intensity', 'float64', true],
    ]);
    expect(createPointSchema().columns).toEqual(REQUIRED_COLUMNS);
    expect(Object.isFrozen(schema.columns)).toBe(true);
  });

  it('allows printable names of any script and rejects control characters', () => {
    for (const name of ['a b', 'Ω "odd" name', 'x;DROP TABLE t', '温度', '🛰️', ' ']) {
      expect(isValidColumnName(name)).toBe(true);
    }
    for (const name of ['', 'a\nb', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085', 'lone\ud800']) {
      expect(isValidColumnName(name)).toBe(false);
      expect(codeOf(() => checkColumnName(name))).toBe('INVALID_ARGUMENT');
    }
  });

  it('rejects duplicate names case-insensitively, reserved names and unknown types', () => {
    const bad = [
      [
        { name: 'a', type: 'int32' },
        { name: 'A', type: 'utf8' },
      ],
      [{ name: 'Cell', type: 'int64' }],
      [{ name: 'lod', type: 'int32' }],
      [{ name: 'T', type: 'int32' }],
      [{ name: 'a', type: 'float32' }],
      [{ name: 'a\r', type: 'int32' }],
    ] as const;
    for (const payload of bad) {
      expect(codeOf(() => createPointSchema({ payload: payload as never }))).toBe('INVALID_ARGUMENT');
    }
  });

  it('compares schemas by names, types and order', () => {
    const a = createPointSchema({
      payload: [
        { name: 'a', type: 'int32' },
        { name: 'b', type: 'utf8' },
      ],
    });
    const b = createPointSchema({
      payload: [
        { name: 'a', type: 'int32' },
        { name: 'b', type: 'utf8' },
      ],
    });
    const c = createPointSchema({
      payload: [
        { name: 'b', type: 'utf8' },
        { name: 'a', type: 'int32' },
      ],
    });
    expect(isSameSchema(a, b)).toBe(true);
    expect(isSameSchema(a, c)).toBe(false);
  });
});
