import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineFramer, type Frame } from '../../src/sources/line-framer.js';
import { ReplaySource } from '../../src/sources/replay/replay-source.js';
import { MemoryDeadLetters, tempDir } from '../helpers.js';

const limits = { maxLineBytes: 1000, keepBytes: 64 };
const dir = tempDir('framer');

function frames(input: Buffer, chunkSize: number): Frame[] {
  const out: Frame[] = [];
  const framer = new LineFramer(limits);
  for (let i = 0; i < input.length; i += chunkSize)
    framer.push(input.subarray(i, i + chunkSize), (f) => out.push(f.kind === 'line' ? { ...f, bytes: Buffer.from(f.bytes) } : f));
  framer.end((f) => out.push(f));
  return out;
}

test('#11.9 an oversized line is framed as its first bytes, length and sha256, the same however the input is chunked', () => {
  const long = Buffer.alloc(5000, 0x61);
  const input = Buffer.concat([Buffer.from('short\r\n'), long, Buffer.from('\r\n'), Buffer.alloc(1000, 0x62), Buffer.from('\nlast')]);
  const expected = createHash('sha256')
    .update(Buffer.concat([long, Buffer.from('\r')]))
    .digest('hex');
  for (const chunk of [1, 7, 999, 1001, 4096, input.length]) {
    const got = frames(input, chunk);
    assert.equal(got.length, 4, `chunk ${chunk}`);
    assert.deepEqual(
      got.map((f) => f.kind),
      ['line', 'oversized', 'line', 'line'],
      `chunk ${chunk}`,
    );
    const [first, over, exact, last] = got as [Frame, Frame, Frame, Frame];
    assert.equal(first.kind === 'line' && first.bytes.toString(), 'short');
    assert.ok(over.kind === 'oversized');
    assert.equal(over.message.length, 5001);
    assert.equal(over.message.sha256, expected);
    assert.equal(over.message.head.length, 64);
    assert.equal(exact.kind === 'line' && exact.bytes.length, 1000, 'a line of exactly the limit is kept whole');
    assert.equal(last.kind === 'line' && last.bytes.toString(), 'last');
    assert.deepEqual(
      got.map((f) => f.lineNo),
      [1, 2, 3, 4],
    );
  }
});

test('#11.9 a 100 MB replay line costs bounded memory and becomes one oversized dead letter', async () => {
  const path = join(dir, 'huge.ndjson');
  const ok = '{"data":{"id":"1","text":"fine","created_at":"2026-11-03T06:00:00.000Z"}}\n';
  writeFileSync(path, Buffer.concat([Buffer.from(ok), Buffer.alloc(100 * 1024 * 1024, 0x7a), Buffer.from('\n'), Buffer.from(ok.replace('"1"', '"2"'))]));
  const dead = new MemoryDeadLetters();
  const source = ReplaySource.open(
    { path, mode: 'max', rate: 1, speed: 1, batchSize: 10, limit: 0, lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 } },
    dead,
  );
  assert.ok(source.ok);
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const ids: string[] = [];
  for await (const batch of source.value.batches(new AbortController().signal)) ids.push(...batch.items.map((p) => p.id));
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.deepEqual(ids, ['1', '2']);
  assert.equal(dead.letters.length, 1);
  const letter = dead.letters[0];
  assert.equal(letter?.code, 'oversized');
  assert.equal(letter?.original.length, 4096);
  assert.equal(letter?.truncated?.length, 100 * 1024 * 1024);
  assert.equal(letter?.origin, `${path}:2`);
  // Was 1.16 GB of RSS for this line; the framer holds at most one line's limit plus a read chunk.
  assert.ok(peak - before < 150 * 1024 * 1024, `RSS grew by ${((peak - before) / 2 ** 20).toFixed(0)} MiB`);
});
