import { err, type Result } from '../contract/index.js';
import { CrowdpulseError } from '../errors.js';
import type { SentimentQuery } from '../query/sentiment-query.js';

/** The store cannot be opened yet (SQLite: the file does not exist until the first write). */
export class StoreNotReadyError extends CrowdpulseError<'CP_STORE_NOT_READY'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_STORE_NOT_READY', message, options);
  }
}

/**
 * A SentimentQuery opened on first use (and retried on the next call while opening fails): the run
 * role mounts the dashboard before its store has created the database file.
 */
export function lazyQuery(open: () => Result<SentimentQuery, Error>): SentimentQuery {
  let opened: SentimentQuery | undefined;
  const get = (): SentimentQuery => {
    if (opened) return opened;
    let result: Result<SentimentQuery, Error>;
    try {
      result = open();
    } catch (e) {
      // A store may throw while opening (SQLite: the file does not exist yet).
      result = err(e as Error);
    }
    if (!result.ok) throw new StoreNotReadyError(`store not readable yet: ${result.error.message}`);
    opened = result.value;
    return opened;
  };
  return {
    buckets: (range) => get().buckets(range),
    topics: (range) => get().topics(range),
    integrity: () => get().integrity(),
    coverage: (range) => get().coverage(range),
    shifts: (range) => get().shifts(range),
    close: async () => {
      await opened?.close();
      opened = undefined;
    },
  };
}
