/**
 * #14.3 end to end: X truncates a long post's `text` and sends the whole of it as `note_tweet`.
 * `crowdpulse run --source x` against the emulator asks for note_tweet (the fields the contract
 * keeps) and stores the score of the full text, not of the truncated one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { parseRecorded } from '../../src/emulator/recorded-posts.js';
import { resolveModelDir } from '../../src/model/registry.js';
import { SentimentPool } from '../../src/transforms/sentiment/sentiment-pool.js';
import { syncRules } from '../../src/x/rules.js';
import { ROOT, tempDir } from '../helpers.js';
import { clientFor, startEmulator, TOKEN } from '../x/helpers.js';

const CLI = join(ROOT, 'bin/crowdpulse.js');
// 280 code points of a plain opening, then the verdict X cuts off.
const OPENING = `notelong update on the new phone: ${'it arrived today and I set it up. '.repeat(8)}`.slice(0, 280);
const FULL = `${OPENING} After a week: worst purchase ever, awful battery, terrible screen, I hate it and I am returning it.`;

test('#14.3 a long post is scored end to end on its full note_tweet text, not on the 280 code points X puts in text', async (t) => {
  assert.equal([...OPENING].length, 280);
  const pool = new SentimentPool(resolveModelDir('fast'), 1);
  t.after(() => pool.close());
  const { probs } = await pool.run([FULL, OPENING]);
  const scoreOf = (i: number): number => (probs[i * 3 + 2] as number) - (probs[i * 3] as number);
  const [full, truncated] = [scoreOf(0), scoreOf(1)];
  assert.ok(Math.abs(full - truncated) > 0.1, `the two texts must score apart for this test to tell them apart: ${full} vs ${truncated}`);

  const createdAt = new Date(Date.now() - 60_000).toISOString();
  const recorded = parseRecorded(JSON.stringify({ data: { id: '1865000000000000001', text: FULL, lang: 'en', created_at: createdAt } }));
  assert.ok(recorded);
  const emu = await startEmulator({ posts: [recorded], rate: 20, keepAliveMs: 200 });
  t.after(() => emu.close());
  assert.ok((await syncRules(clientFor(emu), [{ value: 'notelong', tag: 'phones' }])).ok);

  const dir = tempDir('note-tweet-e2e');
  const db = join(dir, 'store.db');
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CROWDPULSE_') && k !== 'X_BEARER_TOKEN')),
    X_BEARER_TOKEN: TOKEN,
    CROWDPULSE_X_API_URL: emu.url,
    CROWDPULSE_X_MONTHLY_CAP: '0',
    CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
    CROWDPULSE_LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, [CLI, 'run', '--source', 'x', '--limit', '1', '--model', 'fast', '--db', db, '--port', '0', '--progress', 'off'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);

  const store = new Database(db, { readonly: true });
  t.after(() => store.close());
  const rows = store.prepare('SELECT post_id, topic, score FROM post_sentiment').all() as { post_id: string; topic: string; score: number }[];
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0]?.post_id, rows[0]?.topic], ['1865000000000000001', 'phones']);
  assert.ok(Math.abs((rows[0]?.score ?? Number.NaN) - full) < 1e-6, `stored ${rows[0]?.score}, full text ${full}, truncated ${truncated}`);
});
