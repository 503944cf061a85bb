/**
 * The commit that ends a compaction or rebalance: the files it wrote replace the ones it read, in
 * one catalog commit, after which the table's Delta Lake and Iceberg views are published.
 */
import { OctaError } from '../../lattice/errors.js';
import type { CommitAction, EmbeddedCatalog, FileRecord } from '../catalog/catalog.js';
import { publishAfterCommit } from '../catalog/publish/views.js';
import { checkWrittenFiles } from '../catalog/writer-lease.js';

/**
 * Commits a replacement (files removed and added, maybe splits changed) in one commit. When the
 * catalog refuses it with CONFLICT (a concurrent commit removed one of the files, or changed the
 * splits), nothing was committed: the files this run wrote are deleted and the caller plans again.
 * When a written file vanished before the commit, nothing is committed either: the others are
 * deleted and NOT_FOUND names it. Any other failure leaves them for vacuum, since the commit may or
 * may not have happened. After the commit, the table's Delta Lake and Iceberg views are published;
 * a view that fails adds its message to `publishErrors` (the commit stands).
 * @returns the new version, or null after a conflict
 * @throws {OctaError} NOT_FOUND naming a written file that is gone; what the commit throws
 */
export async function commitReplacement(
  catalog: EmbeddedCatalog,
  {
    operation,
    writer,
    actions,
    written,
    publishErrors,
  }: {
    operation: string;
    writer: string;
    actions: CommitAction[];
    written: readonly FileRecord[];
    publishErrors: string[];
  },
): Promise<number | null> {
  try {
    await checkWrittenFiles(catalog.storage, written);
  } catch (error) {
    await Promise.allSettled(written.map((f) => catalog.storage.delete(f.key)));
    throw error;
  }
  try {
    const result = await catalog.commit({ operation, writer, actions });
    const tables = [
      ...new Set(actions.map((a) => ('table' in a ? a.table : a.op === 'add' ? a.file.table : ''))),
    ];
    for (const message of await publishAfterCommit(
      catalog,
      tables.filter((t) => t !== ''),
    )) {
      if (!publishErrors.includes(message)) publishErrors.push(message);
    }
    return result.version;
  } catch (error) {
    if (!(error instanceof OctaError) || error.code !== 'CONFLICT') throw error;
    await Promise.allSettled(written.map((f) => catalog.storage.delete(f.key)));
    return null;
  }
}
