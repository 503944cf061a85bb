/**
 * Column types and label sources of a training-set export: the points' numeric and label types, and
 * a label relation keyed by sample cell, checked once before any SQL runs (docs/TRAINING.md "Labels").
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { OctaError } from '../../lattice/errors.js';
import { quoteIdent } from '../quote.js';
import type { LabelType } from './arrow.js';
import { type LabelSource, type LabelSqlType, labelKeySql } from './sql.js';

/** DuckDB number types and the label type each gives; any other type is a text label. */
export const LABEL_TYPES: Record<string, LabelType> = {
  TINYINT: 'int64',
  SMALLINT: 'int64',
  INTEGER: 'int64',
  BIGINT: 'int64',
  FLOAT: 'float64',
  DOUBLE: 'float64',
};

/**
 * The columns of a relation and their DuckDB types.
 * @param c - the connection
 * @param relation - the relation, quoted as SQL
 * @returns column name → type
 */
export async function columnTypes(c: DuckDBConnection, relation: string): Promise<Map<string, string>> {
  const r = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
  return new Map(r.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]));
}

/** The SQL type a label of this Arrow type is cast to. */
export const labelSqlType = (t: LabelType): LabelSqlType =>
  t === 'int64' ? 'BIGINT' : t === 'float64' ? 'DOUBLE' : 'VARCHAR';

/**
 * Checks a label relation and returns its label source: the relation exists, has the label and
 * key columns, the key is an integer or text, and no sample cell has two rows.
 * @param c - the session's connection
 * @param relation - a name as the user gave it (`t` or `schema.t`)
 * @param column - the label column
 * @param key - the sample cell column
 * @returns the label source and the label's Arrow type
 * @throws {OctaError} INVALID_ARGUMENT for a bad name, a missing column, a key of another type or
 *   a duplicate key; NOT_FOUND for an unknown relation
 */
export async function labelTableSource(
  c: DuckDBConnection,
  relation: string,
  column: string,
  key: string,
): Promise<{ source: LabelSource; type: LabelType }> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$/.test(relation)) {
    throw new OctaError('INVALID_ARGUMENT', 'a label table is a name like labels or schema.labels', relation);
  }
  const quoted = relation.split('.').map(quoteIdent).join('.');
  const types = await columnTypes(c, quoted).catch((e: unknown) => {
    if (!String(e).includes('Catalog Error')) throw e;
    throw new OctaError(
      'NOT_FOUND',
      `no label table ${relation}: name a table of the lake or a relation of the session`,
      relation,
    );
  });
  const labelT = types.get(column);
  if (labelT === undefined) {
    throw new OctaError('INVALID_ARGUMENT', `no label column ${column} in ${relation}`, column);
  }
  const keyT = types.get(key);
  if (keyT === undefined) {
    throw new OctaError('INVALID_ARGUMENT', `no key column ${key} in ${relation}; give \`labelKey\``, key, {
      params: ['labelKey'],
    });
  }
  const keyType = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT'].includes(keyT)
    ? 'id'
    : keyT === 'VARCHAR'
      ? 'text'
      : undefined;
  if (keyType === undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `label key ${key} is ${keyT}: give sample cell ids as BIGINT (signed Index64) or text`,
      key,
    );
  }
  const type = LABEL_TYPES[labelT] ?? 'utf8';
  const source: LabelSource = {
    kind: 'table',
    relation: quoted,
    column,
    key,
    keyType,
    sqlType: labelSqlType(type),
  };
  const dup = (
    await c.runAndReadAll(
      `SELECT ${labelKeySql(source)} AS k, count(*) AS n FROM ${quoted} WHERE ${quoteIdent(key)} IS NOT NULL
       GROUP BY k HAVING count(*) > 1 ORDER BY k LIMIT 1`,
    )
  ).getRowObjectsJS()[0];
  if (dup !== undefined) {
    throw new OctaError(
      'INVALID_ARGUMENT',
      `label table ${relation} has ${dup.n} rows for sample cell ${dup.k}; give one row per cell`,
      String(dup.k),
    );
  }
  return { source, type };
}
