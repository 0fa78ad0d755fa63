import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ROOT, tempDir } from '../helpers.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'bin/crowdpulse.js');
const FIXTURES = join(ROOT, 'bench/fixtures/posts.ndjson.gz');
const manifest = JSON.parse(readFileSync(join(ROOT, 'bench/fixtures/posts.manifest.json'), 'utf8')) as {
  posts: number;
  rowsPerTopic: Record<string, number>;
  deadLettersByCode: Record<string, number>;
  lines: number;
};
const dir = tempDir('e2e');

function crowdpulse(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 600_000 });
}

function rows(db: string): { topic: string; n: number }[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT topic, COUNT(*) AS n FROM post_sentiment GROUP BY topic ORDER BY topic').all() as { topic: string; n: number }[];
  } finally {
    conn.close();
  }
}

function snapshot(db: string): string {
  const conn = new Database(db, { readonly: true });
  try {
    return JSON.stringify(
      conn
        .prepare(
          'SELECT post_id, topic, created_at, lang, label, neg, neu, pos, score, model, flags, ingested_at, analyzed_at, stored_at FROM post_sentiment ORDER BY post_id, topic',
        )
        .all(),
    );
  } finally {
    conn.close();
  }
}

test('crowdpulse run stores every bundled post once per topic, dead-letters the planted bad lines, and a replay changes nothing', async () => {
  const db = join(dir, 'run.db');
  const deadLetters = join(dir, 'dead.ndjson');
  const env = { CROWDPULSE_DEAD_LETTER_PATH: deadLetters, CROWDPULSE_LOG_PROGRESS: 'lines' };
  const first = await crowdpulse(['run', '--input', FIXTURES, '--db', db, '--port', '0'], env);

  // Summary on stdout.
  assert.match(first.stdout, /crowdpulse run summary/);
  assert.match(first.stdout, new RegExp(`lines read\\s+${manifest.lines}`));
  assert.match(first.stdout, /posts\/s/);
  for (const topic of Object.keys(manifest.rowsPerTopic)) assert.match(first.stdout, new RegExp(topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

  // Stored rows against the input: counts per topic, no duplicates.
  const expected = Object.entries(manifest.rowsPerTopic)
    .map(([topic, n]) => ({ topic, n }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
  assert.deepEqual(rows(db), expected);
  const conn = new Database(db, { readonly: true });
  const distinct = conn.prepare('SELECT COUNT(DISTINCT post_id) AS n FROM post_sentiment').get() as { n: number };
  const labels = conn.prepare('SELECT label, COUNT(*) AS n FROM post_sentiment GROUP BY label').all() as { label: string; n: number }[];
  const models = conn.prepare('SELECT DISTINCT model FROM post_sentiment').all() as { model: string }[];
  conn.close();
  assert.equal(distinct.n, manifest.posts);
  assert.equal(labels.length, 3, `a real model gives all three labels on varied posts, got ${JSON.stringify(labels)}`);
  assert.equal(models.length, 1);

  // Dead letters: exactly the planted lines, by reason, with the original bytes.
  const letters = readFileSync(deadLetters, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { code: string; origin: string; original_base64: string });
  const byCode: Record<string, number> = {};
  for (const l of letters) byCode[l.code] = (byCode[l.code] ?? 0) + 1;
  assert.deepEqual(byCode, manifest.deadLettersByCode);
  assert.ok(letters.every((l) => l.origin.startsWith(FIXTURES + ':') && l.original_base64.length > 0));

  // Replaying the same input leaves exactly the same rows.
  const before = snapshot(db);
  await crowdpulse(['run', '--input', FIXTURES, '--db', db, '--port', '0', '--progress', 'off'], env);
  assert.equal(snapshot(db), before);
});

test('a fixture path that does not exist ends with one clear error and a non-zero status', async () => {
  await assert.rejects(
    crowdpulse(['run', '--input', join(dir, 'nope.ndjson'), '--db', join(dir, 'x.db'), '--port', '0']),
    (e: { code: number; stderr: string }) => {
      assert.notEqual(e.code, 0);
      assert.match(e.stderr, /replay file .*nope\.ndjson does not exist/);
      return true;
    },
  );
});

test('an invalid config file ends with one line naming the file, and status 2', async () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'model:\n  threads: -3\n');
  await assert.rejects(crowdpulse(['--config', file, 'run']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 2);
    assert.equal(e.stderr.trim().split('\n').length, 1);
    assert.match(e.stderr, /model\.threads = -3 \(from config file .*bad\.yaml\)/);
    return true;
  });
});

test('--help works on every command', async () => {
  const { stdout } = await crowdpulse(['--help']);
  const commands = [...stdout.matchAll(/^\s{2}(\w+)\b/gm)].map((m) => m[1] as string).filter((c) => c !== 'help');
  assert.ok(commands.includes('run'));
  for (const command of commands) {
    const help = await crowdpulse([command, '--help']);
    assert.match(help.stdout, new RegExp(`Usage: crowdpulse ${command}`));
  }
});
