// Datasets table: one row per preprocessed dataset cache. Functions take the db first (STYLE 9).
import type { DatasetSummary } from '../../common/api.ts';
import { ApiError } from '../../common/errors.ts';
import { isForeignKeyError, readStatement, statement, translateSqliteError } from './database.ts';
import type { Db, ReadonlyDb } from './database.ts';

/** A dataset as stored: the API summary plus the cache folder, which never leaves the core. */
export interface DatasetRecord extends DatasetSummary {
  dir: string;
  /** items in the second domain of an unpaired dataset (0 otherwise) */
  countB?: number;
}

interface DatasetRow {
  id: string;
  name: string;
  kind: string;
  dir: string;
  count: number;
  width: number;
  height: number;
  channels: number;
  class_names: string | null;
  class_counts: string | null;
  content_hash: string;
  created_at: number;
  layout: string;
  description: string;
  count_b: number;
}

const COLUMNS = 'id, name, kind, dir, count, width, height, channels, class_names, class_counts, content_hash, created_at, layout, description, count_b';

function toSummary(row: DatasetRow): DatasetSummary {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as DatasetSummary['kind'],
    layout: row.layout as DatasetSummary['layout'],
    description: row.description,
    count: row.count,
    width: row.width,
    height: row.height,
    channels: row.channels,
    classNames: row.class_names === null ? null : (JSON.parse(row.class_names) as string[]),
    classCounts: row.class_counts === null ? null : (JSON.parse(row.class_counts) as number[]),
    contentHash: row.content_hash,
    createdAt: row.created_at,
  };
}

/**
 * Inserts a dataset or, when the id exists (a re-import), replaces everything but `created_at`.
 * Returns the stored summary.
 */
export function upsertDataset(db: Db, dataset: DatasetRecord): DatasetSummary {
  if (dataset.classNames && dataset.classCounts && dataset.classNames.length !== dataset.classCounts.length) {
    throw new ApiError('invalid_input', `dataset ${dataset.id}: ${dataset.classNames.length} class names but ${dataset.classCounts.length} class counts`);
  }
  try {
    statement(
      db,
      `INSERT INTO datasets (${COLUMNS})
       VALUES (@id, @name, @kind, @dir, @count, @width, @height, @channels, @classNames, @classCounts, @contentHash, @createdAt, @layout, @description, @countB)
       ON CONFLICT (id) DO UPDATE SET
         name = excluded.name, kind = excluded.kind, dir = excluded.dir, count = excluded.count,
         width = excluded.width, height = excluded.height, channels = excluded.channels,
         class_names = excluded.class_names, class_counts = excluded.class_counts,
         content_hash = excluded.content_hash, layout = excluded.layout,
         description = excluded.description, count_b = excluded.count_b`,
    ).run({
      id: dataset.id,
      name: dataset.name,
      kind: dataset.kind,
      dir: dataset.dir,
      count: dataset.count,
      width: dataset.width,
      height: dataset.height,
      channels: dataset.channels,
      classNames: dataset.classNames === null ? null : JSON.stringify(dataset.classNames),
      classCounts: dataset.classCounts === null ? null : JSON.stringify(dataset.classCounts),
      contentHash: dataset.contentHash,
      createdAt: Math.round(dataset.createdAt),
      layout: dataset.layout,
      description: dataset.description,
      countB: dataset.countB ?? 0,
    });
  } catch (err) {
    translateSqliteError(err, `dataset ${dataset.id}`);
  }
  return getDataset(db, dataset.id)!;
}

export function getDataset(db: ReadonlyDb, datasetId: string): DatasetSummary | undefined {
  const row = readStatement<DatasetRow>(db, `SELECT ${COLUMNS} FROM datasets WHERE id = ?`).get(datasetId);
  return row && toSummary(row);
}

/** Built-in datasets first, image datasets before the rest (MNIST leads), then by name. */
export function listDatasets(db: ReadonlyDb): DatasetSummary[] {
  return readStatement<DatasetRow>(db, `SELECT ${COLUMNS} FROM datasets ORDER BY kind = 'builtin' DESC, layout = 'images' DESC, name COLLATE NOCASE, id`)
    .all()
    .map(toSummary);
}

/** Items in the second domain of an unpaired dataset. */
export function getDatasetCountB(db: ReadonlyDb, datasetId: string): number {
  return readStatement<number>(db, 'SELECT count_b FROM datasets WHERE id = ?').pluck(true).get(datasetId) ?? 0;
}

/** The cache folder of a dataset, for the trainer; undefined when there is no such dataset. */
export function getDatasetDir(db: ReadonlyDb, datasetId: string): string | undefined {
  return readStatement<string>(db, 'SELECT dir FROM datasets WHERE id = ?').pluck(true).get(datasetId);
}

/** Deletes a dataset row; `conflict` while runs still refer to it. Returns whether a row went. */
export function deleteDataset(db: Db, datasetId: string): boolean {
  try {
    return statement(db, 'DELETE FROM datasets WHERE id = ?').run(datasetId).changes > 0;
  } catch (err) {
    if (isForeignKeyError(err)) {
      throw new ApiError('conflict', `dataset ${datasetId} is used by runs; delete those runs first`);
    }
    translateSqliteError(err, `dataset ${datasetId}`);
  }
}
