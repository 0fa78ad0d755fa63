/**
 * #11: the hostile corpus (test/fixtures/hostile-corpus.ts) through the Kafka roles — ingest,
 * analyze and store as separate processes over the real broker, storing to SQLite. Every process
 * exits 0 with its summary, and the accounting holds: every line is stored or dead-lettered (on
 * the dead-letter topic, with its file:line origin) exactly once, never both, never neither.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { crowdpulseTopics, ensureTopics } from '../../src/kafka/admin.js';
import { headerValue } from '../../src/kafka/codec.js';
import { DEAD_LETTER_HEADERS } from '../../src/sinks/kafka/kafka-dead-letter-sink.js';
import { checkAccounting, expectedRows, hostileCorpus, rowKey, writeCorpus } from '../fixtures/hostile-corpus.js';
import { tempDir } from '../helpers.js';
import { brokerUp, deleteTestTopics, readTopic, testKafkaConfig } from './broker.js';
import { roleEnv, startRole, stopAll, storedRows, waitFor, type RoleProcess } from './roles.js';

const skip = await brokerUp();
if (skip) console.log(`# skipping the Kafka hostile-corpus test: ${skip}`);

const dir = tempDir('kafka-hostile');

describe('#11 hostile corpus through the Kafka roles (real broker)', { skip }, () => {
  const running: RoleProcess[] = [];
  after(async () => {
    await stopAll(running);
    await deleteTestTopics();
  });

  it(
    '#11 hostile corpus, Kafka roles: every line stored or dead-lettered exactly once, every process exits 0 with its summary',
    { timeout: 300_000 },
    async () => {
      const corpus = hostileCorpus();
      const input = join(dir, 'hostile.ndjson');
      writeCorpus(input, corpus);
      const config = testKafkaConfig();
      await ensureTopics(config, crowdpulseTopics(config));
      const db = join(dir, 'hostile.db');
      const env = roleEnv(config, db);

      const store = startRole('store', ['store'], env, dir);
      const analyze = startRole('analyze', ['analyze'], env, dir);
      running.push(store, analyze);
      const ingest = startRole('ingest', ['ingest', '--input', input], env, dir);
      running.push(ingest);
      assert.equal(await ingest.exited, 0, `ingest exit; log ${ingest.log}`);
      const deadCount = corpus.filter((l) => l.expect.kind === 'dead').length;
      assert.match(ingest.stdout(), new RegExp(`ingest: ${corpus.length - deadCount} posts produced to .*, ${deadCount} dead letters`));

      const rows = expectedRows(corpus);
      await waitFor(`${rows.size} rows in the store`, () => storedRows(db).rows >= rows.size, 180_000, 500);
      const letters = await readTopic(config.deadLetterTopic, deadCount, 30_000);
      for (const r of [analyze, store]) r.kill('SIGTERM');
      assert.equal(await analyze.exited, 0, `analyze exit; log ${analyze.log}`);
      assert.equal(await store.exited, 0, `store exit; log ${store.log}`);
      assert.match(analyze.stdout(), /^analyze: \d+ posts scored to /m);
      assert.match(store.stdout(), /^store: \d+ posts stored in /m);

      const stored = new Set(
        [...storedRows(db).pairs].map((p) => {
          const [id, topic] = p.split('\t') as [string, string];
          return rowKey(id, topic);
        }),
      );
      const byLine = letters.map((m) => {
        const origin = headerValue(m.headers, DEAD_LETTER_HEADERS.origin) ?? '';
        assert.ok(origin.startsWith(`${input}:`), `dead letter origin ${origin}`);
        return { line: Number(origin.slice(input.length + 1)), code: headerValue(m.headers, DEAD_LETTER_HEADERS.code) ?? '' };
      });
      assert.deepEqual(checkAccounting(corpus, stored, byLine), []);
      assert.equal(letters.length, deadCount, 'no dead letter twice');
    },
  );
});
