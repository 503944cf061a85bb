/**
 * `verify`'s check of the published views (Delta Lake, Iceberg): each view, read back from its own
 * metadata, must list exactly the live files of the catalog version it says it reflects, with the
 * same counts and statistics. A view behind the catalog is a warning (a crash between a commit and
 * its publication, caught up by the next commit or `octa catalog publish`); a view that disagrees
 * with the catalog, claims a version the catalog does not have, or cannot be read is an error.
 */
import { isoToMicros } from '../../export/event-time.js';
import type { CatalogSnapshot, EmbeddedCatalog, FileRecord } from '../catalog/catalog.js';
import { deltaTimeMicros } from '../catalog/publish/delta-stats.js';
import { stepsSince } from '../catalog/publish/table-formats.js';
import type { PublishedFile, TableView } from '../catalog/publish/table-view.js';
import { tableViews } from '../catalog/publish/views.js';

/** What a view check found (verify adds these to its problems). */
export interface ViewProblem {
  severity: 'error' | 'warning';
  code: 'VIEW_BEHIND' | 'VIEW_MISMATCH' | 'VIEW_UNREADABLE';
  /** The view's metadata folder. */
  file: string;
  detail: string;
}

const folder = (view: TableView, table: string) =>
  view.format === 'delta' ? `${table}/_delta_log/` : `${table}/metadata/`;

/**
 * How a published file differs from its catalog record ('' when it does not). Delta's statistics
 * hold timestamps truncated to the millisecond (PROTOCOL.md, per-file statistics), so a Delta view's
 * times are compared with the catalog's truncated the same way.
 */
function difference(view: TableView, record: FileRecord, file: PublishedFile): string {
  const time = (iso: string) => {
    const micros = String(isoToMicros(iso));
    return view.format === 'delta' ? deltaTimeMicros(micros) : micros;
  };
  const expected: PublishedFile = {
    rows: record.rows,
    bytes: record.bytes,
    cellMin: record.cellMin,
    cellMax: record.cellMax,
    timeMinMicros: time(record.timeMin),
    timeMaxMicros: time(record.timeMax),
    bbox: record.bbox,
  };
  const out: string[] = [];
  for (const name of Object.keys(expected) as (keyof PublishedFile)[]) {
    const a = JSON.stringify(expected[name]);
    const b = JSON.stringify(file[name]);
    if (a !== b) out.push(`${name} ${b} (catalog: ${a})`);
  }
  return out.join(', ');
}

/**
 * Checks every view of the tables named (default all) against the catalog.
 * @param catalog - the lake's catalog
 * @param latest - its latest state
 * @param table - only this table
 * @returns the problems found
 */
export async function checkViews(
  catalog: EmbeddedCatalog,
  latest: CatalogSnapshot,
  table?: string,
): Promise<ViewProblem[]> {
  const problems: ViewProblem[] = [];
  const names = table === undefined ? [...latest.tables.keys()].sort() : [table];
  for (const view of await tableViews()) {
    for (const name of names) {
      const file = folder(view, name);
      const problem = (severity: ViewProblem['severity'], code: ViewProblem['code'], detail: string) =>
        problems.push({ severity, code, file, detail: `${view.format} view of table ${name}: ${detail}` });
      try {
        const published = await view.read(catalog.storage, name);
        const behind = await stepsSince(catalog, latest, name, published?.version ?? null);
        if (published === null) {
          problem(
            'warning',
            'VIEW_BEHIND',
            'not published yet; the next commit to the table, or publishing the lake, writes it',
          );
          continue;
        }
        if (behind.length > 0) {
          problem(
            'warning',
            'VIEW_BEHIND',
            `reflects catalog version ${published.version}, ${behind.length} change(s) behind version ${latest.version}; the next commit to the table, or publishing the lake again, catches it up`,
          );
        }
        const state = (await catalog.snapshotAt(published.version)).tables.get(name);
        const records = state?.files ?? new Map<string, FileRecord>();
        const extra = [...published.files.keys()].filter((k) => !records.has(k));
        const missing = [...records.keys()].filter((k) => !published.files.has(k));
        if (extra.length > 0 || missing.length > 0) {
          problem(
            'error',
            'VIEW_MISMATCH',
            `at catalog version ${published.version} it lists ${extra.length} file(s) the catalog does not (${extra.slice(0, 3).join(', ')}) and lacks ${missing.length} (${missing.slice(0, 3).join(', ')})`,
          );
        }
        for (const [key, record] of records) {
          const entry = published.files.get(key);
          const diff = entry === undefined ? '' : difference(view, record, entry);
          if (diff !== '') problem('error', 'VIEW_MISMATCH', `${key}: ${diff}`);
        }
      } catch (error) {
        problem('error', 'VIEW_UNREADABLE', error instanceof Error ? error.message : String(error));
      }
    }
  }
  return problems;
}
