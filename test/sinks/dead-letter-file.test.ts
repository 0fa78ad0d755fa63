import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadLetter } from '../../src/contract/index.js';
import { FileDeadLetterSink } from '../../src/sinks/dead-letter/file-dead-letter-sink.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('dead-letter-file');
const letters = (n: number, from = 1): ReturnType<typeof deadLetter>[] =>
  Array.from({ length: n }, (_, i) => deadLetter('ingest', 'invalid_json', 'not JSON', `bad line ${from + i}`, `in.ndjson:${from + i}`));

async function writeAll(path: string, batch: ReturnType<typeof letters>): Promise<void> {
  const sink = await FileDeadLetterSink.open(path);
  assert.ok(sink.ok);
  await sink.value.write(batch);
  await sink.value.close();
}

test('#11.12 dead letters are idempotent per source position: reruns, and a rerun after a crash cut the last line, add each letter once', async () => {
  const path = join(dir, 'dead.ndjson');
  await writeAll(path, letters(8));
  await writeAll(path, letters(8));
  // Three "kills": the last letter half written each time, then a full rerun.
  for (let kill = 0; kill < 3; kill++) {
    appendFileSync(path, '{"key":"half-writ');
    await writeAll(path, letters(3));
  }
  await writeAll(path, [...letters(8), ...letters(2, 9)]);
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const parsed = lines.filter((l) => !l.startsWith('{"key":"half-writ')).map((l) => JSON.parse(l) as { key: string; origin: string });
  assert.equal(parsed.length, 10, 'ten distinct letters, each once');
  assert.equal(new Set(parsed.map((l) => l.key)).size, 10);
  assert.equal(lines.length - parsed.length, 3, 'the cut lines stay on lines of their own');
  // The same position with other content is another letter (a different file under the same name).
  await writeAll(path, [deadLetter('ingest', 'invalid_json', 'not JSON', 'other bytes', 'in.ndjson:1')]);
  assert.equal(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"key":"') && !l.startsWith('{"key":"half')).length,
    11,
  );
});

test('#11.6 a dead-letter path that cannot be appended to is refused at open with one line naming the setting', async () => {
  for (const path of [dir, '/dev/null/sub/x']) {
    const sink = await FileDeadLetterSink.open(path);
    assert.ok(!sink.ok);
    assert.equal(sink.error.code, 'CP_DEAD_LETTER_PATH');
    assert.match(sink.error.message, /^deadLetter\.path = /);
    assert.doesNotMatch(sink.error.message, /\n/);
  }
});
