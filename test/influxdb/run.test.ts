/**
 * `crowdpulse run --sink influxdb` end to end against the real server: every bundled post stored
 * once per topic, the summary read back through Flux, and a replay of the same input overwrites
 * (same counts, no duplicate (post, topic)).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { InfluxQuery } from '../../src/sinks/influxdb/query.js';
import { ROOT, tempDir } from '../helpers.js';
import { testDatabase } from './server.js';

const run = promisify(execFile);
const FIXTURES = join(ROOT, 'bench/fixtures/posts.ndjson.gz');
const manifest = JSON.parse(readFileSync(join(ROOT, 'bench/fixtures/posts.manifest.json'), 'utf8')) as { posts: number; rowsPerTopic: Record<string, number> };

test('crowdpulse run --sink influxdb stores every post once per topic; a replay overwrites', { timeout: 900_000 }, async (t) => {
  const db = await testDatabase(t);
  if (!db) return;
  t.after(() => db.drop());
  const dir = tempDir('influx-run');
  const env = { ...process.env, ...db.env(), CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson') };
  const cli = (): Promise<{ stdout: string }> =>
    run(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'run', '--input', FIXTURES, '--sink', 'influxdb', '--port', '0', '--progress', 'off'], {
      cwd: ROOT,
      env,
      maxBuffer: 64 << 20,
      timeout: 600_000,
    });

  const first = await cli();
  assert.match(first.stdout, /crowdpulse run summary/);
  assert.match(first.stdout, /InfluxDB/);
  for (const topic of Object.keys(manifest.rowsPerTopic)) assert.ok(first.stdout.includes(topic), `summary lists ${topic}`);

  const query = new InfluxQuery(db.config());
  t.after(() => query.close());
  const check = async (): Promise<void> => {
    const integrity = await query.integrity();
    assert.deepEqual(Object.fromEntries([...integrity.rowsPerTopic].sort()), Object.fromEntries(Object.entries(manifest.rowsPerTopic).sort()));
    assert.equal(integrity.distinctPosts, manifest.posts);
    assert.equal(integrity.duplicateKeys, 0);
  };
  await check();
  await cli();
  await check();
});
