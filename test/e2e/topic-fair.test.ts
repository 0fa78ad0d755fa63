/**
 * #17.2 topic-fair scoring, end to end: `crowdpulse run` on posts that differ only in the tracked
 * name (in its rule's forms) stores one score per sentence whatever the name, and with
 * model.topicFair off the names move the scores (so the test sees the difference it guards).
 * Names and sentences here are made up for this test; they are not the held-out invariance suite's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ROOT, tempDir } from '../helpers.js';

const run = promisify(execFile);
const dir = tempDir('topic-fair');

const TOPICS = [
  { tag: 'brand:zentrix', rule: 'Zentrix OR #Zentrix OR @zentrixhq', forms: ['Zentrix', '#Zentrix', '@zentrixhq'] },
  { tag: 'senator-halvorsen', rule: '"Senator Halvorsen" OR #Halvorsen2026', forms: ['Senator Halvorsen', '#Halvorsen2026', '#SenatorHalvorsen'] },
  { tag: 'coin:qubit', rule: 'Qubitcoin OR $QBT', forms: ['Qubitcoin', '$QBT', '$qbt'] },
  { tag: 'club:rovers', rule: '"Dunmore Rovers" OR #DunmoreRovers', forms: ['Dunmore Rovers', '#DunmoreRovers', 'dunmore-rovers'] },
  { tag: 'place:lisbon', rule: 'Lisbon', forms: ['Lisbon', '#Lisbon', 'LISBON'] },
];
const SENTENCES = [
  'finally tried {} today and it was fine',
  '{} is trending again',
  'cannot believe what {} did this week',
  'so happy with {} right now',
  'worst experience with {} ever',
  'anyone else following {} tonight?',
];

function posts(): { lines: string[]; expected: number } {
  const lines: string[] = [];
  let id = 3_000_000_000_000_000_000n;
  for (const sentence of SENTENCES)
    for (const topic of TOPICS)
      for (const form of topic.forms) {
        id++;
        const data = {
          id: String(id),
          text: sentence.replace('{}', form),
          created_at: '2026-11-03T06:00:00.000Z',
          lang: 'en',
          edit_history_tweet_ids: [String(id)],
        };
        lines.push(JSON.stringify({ data, matching_rules: [{ id: '1790000000000000001', tag: topic.tag }] }));
      }
  return { lines, expected: lines.length };
}

/** Stored score per post text. */
async function scores(topicFair: boolean): Promise<Map<string, number>> {
  const { lines, expected } = posts();
  const input = join(dir, 'posts.ndjson');
  writeFileSync(input, `${lines.join('\n')}\n`);
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, `rules:\n${TOPICS.map((t) => `  - value: '${t.rule}'\n    tag: '${t.tag}'\n`).join('')}`);
  const db = join(dir, `topic-fair-${topicFair}.db`);
  await run(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'run', '--input', input, '--db', db, '--port', '0'], {
    cwd: ROOT,
    env: {
      ...process.env,
      CROWDPULSE_X_RULES_FILE: rules,
      CROWDPULSE_MODEL_TOPIC_FAIR: String(topicFair),
      CROWDPULSE_DEAD_LETTER_PATH: join(dir, 'dead.ndjson'),
    },
    timeout: 120_000,
  });
  const conn = new Database(db, { readonly: true });
  try {
    const texts = new Map(lines.map((l) => JSON.parse(l) as { data: { id: string; text: string } }).map((p) => [p.data.id, p.data.text]));
    const rows = conn.prepare('SELECT post_id, score FROM post_sentiment').all() as { post_id: string; score: number }[];
    assert.equal(rows.length, expected);
    return new Map(rows.map((r) => [texts.get(r.post_id)!, r.score]));
  } finally {
    conn.close();
  }
}

/** Per sentence: max − min stored score over every topic's names and forms. */
function spreads(byText: Map<string, number>): number[] {
  return SENTENCES.map((sentence) => {
    const s = TOPICS.flatMap((t) => t.forms.map((f) => byText.get(sentence.replace('{}', f))!));
    return Math.max(...s) - Math.min(...s);
  });
}

test(
  '#17.2 crowdpulse run: with topic-fair scoring the tracked name in any form of its rule does not move the stored score',
  { timeout: 300_000 },
  async () => {
    const fair = spreads(await scores(true));
    const raw = spreads(await scores(false));
    console.log(`spread per sentence, topic-fair: ${fair.map((x) => x.toFixed(3)).join(' ')}; model alone: ${raw.map((x) => x.toFixed(3)).join(' ')}`);
    // Without masking the names move the scores (the fast tier's hashed n-grams see each name)...
    assert.ok(Math.max(...raw) > 0.05, `the names did not move the scores even unmasked (${raw.join(', ')}): this test would not see a regression`);
    // ...with it every form of every tracked name is the same placeholder, so the text scored is the same.
    for (const s of fair) assert.ok(s < 1e-6, `spread ${s} with topic-fair scoring`);
  },
);
