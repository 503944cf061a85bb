/**
 * The open table formats every table is published as, loaded on first use (the Iceberg view brings
 * an Avro library that commands which never commit need not load), and the publication that runs
 * after every commit that changes a table.
 */
import type { EmbeddedCatalog } from '../catalog.js';
import { type PublishOutcome, publishTables } from './table-formats.js';
import { TABLE_FORMATS, type TableFormat, type TableView } from './table-view.js';

/**
 * The views of the named formats, in the order given.
 * @param formats - default both
 */
export async function tableViews(formats: readonly TableFormat[] = TABLE_FORMATS): Promise<TableView[]> {
  const views: TableView[] = [];
  for (const format of formats) {
    if (format === 'delta') views.push((await import('./delta.js')).deltaView);
    else views.push((await import('./iceberg.js')).icebergView);
  }
  return views;
}

/**
 * Publishes the tables a commit changed to every format. Never throws for a view that fails: the
 * commit stands, the failure is returned as a message, and the next commit or `octa catalog
 * publish` catches the view up.
 * @returns one message per view that could not be brought up to date (empty when all are)
 */
export async function publishAfterCommit(
  catalog: EmbeddedCatalog,
  tables: readonly string[],
): Promise<string[]> {
  let outcomes: PublishOutcome[];
  try {
    outcomes = await publishTables(catalog, await tableViews(), tables);
  } catch (error) {
    return [`the table format views were not published: ${String(error)}`];
  }
  return outcomes
    .filter((o) => o.error !== undefined)
    .map(
      (o) =>
        `the ${o.format} view of table ${o.table} is behind the catalog (it reflects version ${o.from ?? 'none'}): ${o.error!.message}; the next commit to the table, or publishing the lake again, catches it up`,
    );
}
