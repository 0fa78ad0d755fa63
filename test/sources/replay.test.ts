import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Post } from '../../src/contract/index.js';
import { ReplaySource } from '../../src/sources/replay/replay-source.js';
import { MemoryDeadLetters, ROOT, tempDir } from '../helpers.js';

const dir = tempDir('replay');
const line = (id: number, created: string): string =>
  JSON.stringify({ data: { id: String(id), text: `post ${id}`, created_at: created }, matching_rules: [{ id: '1', tag: 't' }] });

async function drain(source: ReplaySource): Promise<Post[]> {
  const posts: Post[] = [];
  for await (const batch of source.batches(new AbortController().signal)) {
    posts.push(...batch.items);
    batch.ack();
  }
  return posts;
}

const options = { mode: 'max' as const, rate: 1000, speed: 1, batchSize: 3, limit: 0, lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 } };

test('reads plain and gzip files alike, CRLF or LF, skipping blank keep-alive lines', async () => {
  const body = [line(1, '2026-11-03T06:00:00Z'), '', line(2, '2026-11-03T06:00:01Z'), line(3, '2026-11-03T06:00:02Z')].join('\r\n') + '\r\n';
  const plain = join(dir, 'a.ndjson');
  const gz = join(dir, 'a.ndjson.gz');
  writeFileSync(plain, body);
  writeFileSync(gz, gzipSync(body));
  for (const path of [plain, gz]) {
    const dl = new MemoryDeadLetters();
    const source = ReplaySource.open({ ...options, path }, dl);
    assert.ok(source.ok);
    const posts = await drain(source.value);
    assert.deepEqual(
      posts.map((p) => p.id),
      ['1', '2', '3'],
    );
    assert.equal(dl.letters.length, 0);
  }
});

test('bad lines go to dead letters with file:line, the original bytes and the reason; the replay goes on', async () => {
  const bad = Buffer.concat([Buffer.from('{"data":{"id":"9","text":"x'), Buffer.from([0xff]), Buffer.from('"}}')]);
  const path = join(dir, 'bad.ndjson');
  writeFileSync(
    path,
    Buffer.concat([Buffer.from(line(1, '2026-11-03T06:00:00Z') + '\n{oops\n'), bad, Buffer.from('\n' + line(2, '2026-11-03T06:00:01Z') + '\n')]),
  );
  const dl = new MemoryDeadLetters();
  const source = ReplaySource.open({ ...options, path }, dl);
  assert.ok(source.ok);
  const posts = await drain(source.value);
  assert.deepEqual(
    posts.map((p) => p.id),
    ['1', '2'],
  );
  assert.deepEqual(
    dl.letters.map((l) => [l.code, l.origin]),
    [
      ['invalid_json', `${path}:2`],
      ['invalid_utf8', `${path}:3`],
    ],
  );
  assert.deepEqual(Buffer.from(dl.letters[1]?.original ?? []), bad);
});

test('a path that does not exist is refused with its name', () => {
  const r = ReplaySource.open({ ...options, path: join(dir, 'missing.ndjson') }, new MemoryDeadLetters());
  assert.ok(!r.ok);
  assert.match(r.error.message, /missing\.ndjson does not exist/);
});

test('limit stops after that many lines', async () => {
  const source = ReplaySource.open({ ...options, path: join(ROOT, 'bench/fixtures/posts.ndjson.gz'), limit: 500, batchSize: 128 }, new MemoryDeadLetters());
  assert.ok(source.ok);
  const posts = await drain(source.value);
  assert.ok(posts.length <= 500 && posts.length >= 495);
  assert.equal(source.value.messagesRead, 500);
});

test('rate mode paces emission at the configured rate', async () => {
  const path = join(dir, 'rate.ndjson');
  writeFileSync(path, Array.from({ length: 60 }, (_, i) => line(i + 1, '2026-11-03T06:00:00Z')).join('\n'));
  const source = ReplaySource.open({ ...options, path, mode: 'rate', rate: 200, batchSize: 256 }, new MemoryDeadLetters());
  assert.ok(source.ok);
  const t0 = performance.now();
  const posts = await drain(source.value);
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(posts.length, 60);
  // 60 posts at 200/s cannot finish in under ~0.25 s (a lower bound only: CI machines may be slower).
  assert.ok(seconds >= 0.25, `took ${seconds}s`);
});

test('recorded mode follows created_at gaps divided by the speed factor', async () => {
  const path = join(dir, 'recorded.ndjson');
  writeFileSync(path, [line(1, '2026-11-03T06:00:00Z'), line(2, '2026-11-03T06:00:10Z')].join('\n'));
  const source = ReplaySource.open({ ...options, path, mode: 'recorded', speed: 50 }, new MemoryDeadLetters());
  assert.ok(source.ok);
  const t0 = performance.now();
  await drain(source.value);
  assert.ok(performance.now() - t0 >= 180, '10 s of recorded time at speed 50 takes at least ~200 ms');
});

test('the bundled fixtures match their manifest', async () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'bench/fixtures/posts.manifest.json'), 'utf8')) as {
    lines: number;
    planted: unknown[];
    posts: number;
    duplicateLines: number;
  };
  const dl = new MemoryDeadLetters();
  const source = ReplaySource.open({ ...options, path: join(ROOT, 'bench/fixtures/posts.ndjson.gz'), batchSize: 1024 }, dl);
  assert.ok(source.ok);
  const posts = await drain(source.value);
  assert.equal(posts.length + dl.letters.length, manifest.lines);
  assert.equal(dl.letters.length, manifest.planted.length);
  assert.equal(new Set(posts.map((p) => p.id)).size, manifest.posts);
  assert.equal(posts.length - manifest.posts, manifest.duplicateLines);
});
