import type { SqliteConfig } from '../../config/sections/core.js';
import { err, ok } from '../../contract/index.js';
import { CrowdpulseError } from '../../errors.js';
import type { StoreKind } from '../../pipeline/kinds.js';
import { SqliteQuery } from './query.js';
import { sqliteCoverageWriter } from './coverage.js';
import { sqliteShiftWriter } from './shifts.js';
import { SqliteStore } from './sqlite-store.js';

/** sink.kind = sqlite: the embedded default, one file. */
export const sqliteStoreKind: StoreKind<SqliteConfig> = {
  section: (config) => config.sqlite,
  build(section) {
    try {
      return ok(new SqliteStore(section.path, section));
    } catch (e) {
      return err(
        new CrowdpulseError(
          'CP_STORE_OPEN',
          `sqlite.path = ${JSON.stringify(section.path)} (--db, CROWDPULSE_SQLITE_PATH): cannot open the store: ${(e as Error).message}`,
          { cause: e },
        ),
      );
    }
  },
  query: (section) => ok(new SqliteQuery(section.path)),
  shifts(section) {
    try {
      return ok(sqliteShiftWriter(section.path));
    } catch (e) {
      return err(
        new CrowdpulseError('CP_STORE_OPEN', `sqlite.path = ${JSON.stringify(section.path)}: cannot open the store for shifts: ${(e as Error).message}`, {
          cause: e,
        }),
      );
    }
  },
  coverage(section) {
    try {
      return ok(sqliteCoverageWriter(section.path));
    } catch (e) {
      return err(
        new CrowdpulseError(
          'CP_STORE_OPEN',
          `sqlite.path = ${JSON.stringify(section.path)}: cannot open the store for coverage events: ${(e as Error).message}`,
          { cause: e },
        ),
      );
    }
  },
  describe: (section) => `SQLite ${section.path} (table post_sentiment)`,
};
