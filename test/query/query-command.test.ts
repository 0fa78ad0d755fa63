/**
 * #13 `crowdpulse query` over the embedded store: absolute and relative ranges (anchored on the
 * clock or a given time, never on the newest post), bucket width, topics, minimum posts, and the
 * three formats, checked against SqliteQuery itself; bad arguments are usage errors (exit 2).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { scoredPostOf, type ScoredPost } from '../../src/contract/index.js';
import type { QueryResult } from '../../src/commands/query-output.js';
import { SqliteQuery } from '../../src/sinks/sqlite/query.js';
import { SqliteStore } from '../../src/sinks/sqlite/sqlite-store.js';
import { resolveRange } from '../../src/query/range.js';
import { ROOT, tempDir } from '../helpers.js';

const exec = promisify(execFile);
const CLI = join(ROOT, 'bin/crowdpulse.js');
const T0 = Date.UTC(2026, 10, 3, 6, 0, 0);

async function storeWithPosts(): Promise<string> {
  const posts: ScoredPost[] = [];
  for (let i = 0; i < 600; i++) {
    const neg = ((i * 7919) % 1000) / 2000;
    const pos = ((i * 104729) % 1000) / 2000;
    const at = T0 + i * 6000;
    const topics = i % 3 === 0 ? ['brand:acme', '=cmd|"a,b"'] : ['brand:acme'];
    posts.push(
      scoredPostOf(
        { id: String(2_100_000_000_000_000_000n + BigInt(i)), createdAt: new Date(at).toISOString(), topics, lang: 'en', ingestedAt: at },
        { neg, neu: Math.max(0, 1 - neg - pos), pos },
        { model: 'm', flags: [], analyzedAt: at },
      ),
    );
  }
  // A post dated far in the future: "the last hour" must not move to it.
  posts.push(
    scoredPostOf(
      { id: '42', createdAt: '2030-01-01T00:00:00.000Z', topics: ['brand:acme'], lang: 'en', ingestedAt: T0 },
      { neg: 0, neu: 0, pos: 1 },
      { model: 'm', flags: [], analyzedAt: T0 },
    ),
  );
  const path = join(tempDir('query-command'), 'store.db');
  const store = new SqliteStore(path);
  await store.write(posts);
  await store.close();
  return path;
}

const query = (db: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
  exec(process.execPath, [CLI, 'query', '--db', db, ...args], { cwd: ROOT, env: { ...process.env, CROWDPULSE_LOG_LEVEL: 'warn' } });

test('crowdpulse query --format json equals the store query for an absolute range, bucket width, topics and minimum', async () => {
  const db = await storeWithPosts();
  const from = new Date(T0).toISOString();
  const to = new Date(T0 + 3_600_000).toISOString();
  const { stdout } = await query(db, ['--from', from, '--to', to, '--bucket', '10m', '--topics', 'brand:acme', '--min-posts', '40', '--format', 'json']);
  const result = JSON.parse(stdout) as QueryResult;
  const store = new SqliteQuery(db);
  try {
    const expected = await store.buckets({ from: new Date(from), to: new Date(to), bucketSeconds: 600, topics: ['brand:acme'], minPosts: 40 });
    // A replay records no coverage: every bucket says so (null), beside what the store answered.
    assert.deepEqual(result.buckets, JSON.parse(JSON.stringify(expected.map((b) => ({ ...b, coverage: null })))));
  } finally {
    await store.close();
  }
  assert.equal(result.from, from);
  assert.equal(result.to, to);
  assert.equal(result.bucketSeconds, 600);
  assert.equal(result.buckets.length, 6);
  assert.ok(result.buckets.every((b) => b.topic === 'brand:acme' && b.count === 100 && b.meanScoreCi95 !== null && !b.tooFewPosts));
});

test('--last is anchored on --at (or the clock), never on the newest post, which lies in 2030', async () => {
  const db = await storeWithPosts();
  const at = new Date(T0 + 1_800_000).toISOString();
  const result = JSON.parse((await query(db, ['--last', '30m', '--at', at, '--bucket', '30m', '--format', 'json'])).stdout) as QueryResult;
  assert.equal(result.to, at);
  assert.equal(result.from, new Date(T0).toISOString());
  assert.deepEqual(
    result.buckets.map((b) => [b.topic, b.count]),
    [
      ['=cmd|"a,b"', 100],
      ['brand:acme', 300],
    ],
  );
  // Relative to the clock (2026-12 or later), the last hour of November's posts holds nothing.
  const now = JSON.parse((await query(db, ['--last', '1h', '--format', 'json'])).stdout) as QueryResult;
  assert.deepEqual(now.buckets, []);
});

test('csv: one header and one row per bucket, hostile topics quoted and defused; table: one line per bucket with a too-few mark', async () => {
  const db = await storeWithPosts();
  const args = ['--from', new Date(T0).toISOString(), '--to', new Date(T0 + 3_600_000).toISOString(), '--bucket', '30m'];
  const lines = (await query(db, [...args, '--format', 'csv'])).stdout.trimEnd().split('\n');
  assert.match(lines[0] as string, /^topic,bucket_start,n,opinions,mean_score,mean_score_ci95_lo,mean_score_ci95_hi,score_stddev,share_negative,/);
  assert.equal(lines.length, 1 + 4);
  assert.ok(
    lines.some((l) => l.startsWith(`"'=cmd|""a,b"""`)),
    lines.join('\n'),
  );
  assert.ok(lines.every((l, i) => i === 0 || l.split(',').length >= 17));
  const table = (await query(db, [...args, '--min-posts', '150'])).stdout.trimEnd().split('\n');
  assert.equal(table.length, 2 + 4);
  assert.equal(table.filter((l) => l.endsWith('*')).length, 2, table.join('\n'));
});

test('bad arguments are usage errors with exit status 2', async () => {
  const db = await storeWithPosts();
  for (const args of [
    ['--from', '2026-11-03T07:00:00Z', '--to', '2026-11-03T06:00:00Z'],
    ['--last', '6 hours'],
    ['--last', '1h', '--from', '2026-11-03'],
    ['--from', '03/11/2026'],
    ['--bucket', '0s'],
    ['--format', 'xml'],
    ['--min-posts', '-1'],
  ]) {
    await assert.rejects(query(db, args), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 2, `${args.join(' ')}: ${e.stderr}`);
      assert.match(e.stderr ?? '', /CP_USAGE/);
      return true;
    });
  }
  await assert.rejects(query(join(tempDir('query-command'), 'missing.db'), []), (e: { code?: number; stderr?: string }) => {
    assert.match(e.stderr ?? '', /CP_STORE_OPEN/);
    return true;
  });
});

test('resolveRange: --last before --at, --from/--to, and a default of 24 h before now', () => {
  const now = Date.UTC(2026, 11, 2, 12, 0, 0);
  assert.deepEqual(resolveRange({}, now), { ok: true, value: { from: now - 86_400_000, to: now } });
  assert.deepEqual(resolveRange({ last: '6h', at: '2026-11-03T06:00:00Z' }, now), {
    ok: true,
    value: { from: Date.UTC(2026, 10, 3, 0, 0, 0), to: Date.UTC(2026, 10, 3, 6, 0, 0) },
  });
  assert.deepEqual(resolveRange({ from: '2026-11-03' }, now), { ok: true, value: { from: Date.UTC(2026, 10, 3), to: now } });
  assert.equal(resolveRange({ at: 'now' }, now).ok, false);
});

test('#17.5 crowdpulse query leaves posts in unsupported languages out and lists them per topic; --include-unsupported-languages counts them', async () => {
  const posts: ScoredPost[] = [];
  for (let i = 0; i < 40; i++) {
    const at = T0 + i * 60_000;
    const spanish = i % 4 === 0;
    posts.push(
      scoredPostOf(
        {
          id: String(2_200_000_000_000_000_000n + BigInt(i)),
          createdAt: new Date(at).toISOString(),
          topics: ['brand:acme'],
          lang: spanish ? 'es' : 'en',
          ingestedAt: at,
        },
        spanish ? { neg: 0.9, neu: 0.05, pos: 0.05 } : { neg: 0.05, neu: 0.05, pos: 0.9 },
        { model: 'm', flags: spanish ? ['non_english'] : [], analyzedAt: at },
      ),
    );
  }
  const db = join(tempDir('query-languages'), 'store.db');
  const store = new SqliteStore(db);
  await store.write(posts);
  await store.close();
  const range = ['--from', new Date(T0).toISOString(), '--to', new Date(T0 + 3_600_000).toISOString(), '--bucket', '1h'];
  const excluded = JSON.parse((await query(db, [...range, '--format', 'json'])).stdout) as QueryResult;
  assert.equal(excluded.unsupportedLanguages, 'exclude');
  assert.deepEqual(
    excluded.buckets.map((b) => [b.count, b.meanScore > 0.8]),
    [[30, true]],
  );
  assert.deepEqual(excluded.leftOut, [{ topic: 'brand:acme', posts: 10 }]);
  const table = (await query(db, range)).stdout;
  assert.match(table, /left out \(posts in languages the model does not support; --include-unsupported-languages counts them\):\n {2}brand:acme {2}10 posts\n/);
  const included = JSON.parse((await query(db, [...range, '--include-unsupported-languages', '--format', 'json'])).stdout) as QueryResult;
  assert.equal(included.unsupportedLanguages, 'include');
  assert.deepEqual(
    included.buckets.map((b) => b.count),
    [40],
  );
  assert.deepEqual(included.leftOut, []);
  assert.match((await query(db, [...range, '--include-unsupported-languages'])).stdout, /posts in unsupported languages included/);
});
