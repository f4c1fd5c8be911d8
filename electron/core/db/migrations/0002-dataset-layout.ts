// Datasets gain a layout (images, A→B pairs, two unpaired domains, 2-D points), a one-line
// description and the size of a second domain, for the model zoo's data contracts.
import type { Db } from '../database.ts';

export function updateToSchemaVersion2(db: Db): void {
  db.exec(`
    ALTER TABLE datasets ADD COLUMN layout TEXT NOT NULL DEFAULT 'images'
      CHECK (layout IN ('images', 'paired', 'unpaired', 'points'));
    ALTER TABLE datasets ADD COLUMN description TEXT NOT NULL DEFAULT '';
    ALTER TABLE datasets ADD COLUMN count_b INTEGER NOT NULL DEFAULT 0 CHECK (count_b >= 0);
  `);
}
