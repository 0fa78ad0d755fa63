/**
 * #14 long posts as X serves them: a recorded text over 280 characters (code points) without a
 * note_tweet is served with `text` cut to its first 280 code points and, when tweet.fields asks
 * for it, `note_tweet.text` = the full text; on the stream and in search alike.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRecorded } from '../../src/emulator/recorded-posts.js';
import type { XEmulator } from '../../src/emulator/server.js';
import { addRules, getJson, readStream, startEmu, until, type SearchBody, type StreamedPost } from './helpers.js';

// 300 code points, 320 UTF-16 units; the 280th code point falls among the emoji (a cut in UTF-16 units would be short, or split a pair).
const LONG = `longpost ${'a'.repeat(261)}${'🚀'.repeat(20)} ${'z'.repeat(9)}`;
const NOTED_FULL = `noted ${'x'.repeat(400)}`;
const HUGE = `hugepost ${'y'.repeat(30_000)}`;

function recording() {
  const line = (data: Record<string, unknown>) => parseRecorded(JSON.stringify({ data: { lang: 'en', ...data } }))!;
  return [
    line({ id: '1', text: LONG }),
    line({ id: '2', text: 'shortpost is short' }),
    line({ id: '3', text: `${NOTED_FULL.slice(0, 280)}…`, note_tweet: { text: NOTED_FULL } }),
    line({ id: '4', text: HUGE }),
  ];
}

const RULE = 'longpost OR shortpost OR noted OR hugepost';

function check(byId: Map<string, StreamedPost['data']>, withNote: boolean): void {
  const long = byId.get('1')!;
  assert.equal([...LONG].length, 300);
  assert.equal(long.text, [...LONG].slice(0, 280).join(''));
  assert.equal([...long.text].length, 280);
  assert.ok(!long.text.endsWith('\ud83d'), 'no lone surrogate');
  assert.deepEqual(long.note_tweet, withNote ? { text: LONG } : undefined);
  const short = byId.get('2')!;
  assert.equal(short.text, 'shortpost is short');
  assert.equal(short.note_tweet, undefined);
  const noted = byId.get('3')!;
  assert.equal(noted.text, `${NOTED_FULL.slice(0, 280)}…`, 'a recorded note_tweet post is served as recorded');
  assert.deepEqual(noted.note_tweet, withNote ? { text: NOTED_FULL } : undefined);
  const huge = byId.get('4')!;
  assert.equal(huge.text, HUGE, 'longer than any X post (25,000): served as recorded');
  assert.equal(huge.note_tweet, undefined);
}

async function streamed(emu: XEmulator, query: string): Promise<Map<string, StreamedPost['data']>> {
  const r = readStream(emu, query);
  await until(() => new Set(r.posts.map((p) => p.data.id)).size === 4, 5000, 'all four posts');
  r.close();
  return new Map(r.posts.map((p) => [p.data.id, p.data]));
}

describe('note_tweet: long posts as X serves them', () => {
  it('on the stream: text cut to 280 code points; note_tweet only when asked for', async () => {
    const emu = await startEmu({ posts: recording(), rate: 200, maxConnections: 2 });
    try {
      await addRules(emu, [{ value: RULE }]);
      check(await streamed(emu, 'tweet.fields=note_tweet,lang'), true);
      check(await streamed(emu, 'tweet.fields=lang'), false);
    } finally {
      await emu.close();
    }
  });

  it('in search/recent alike', async () => {
    const emu = await startEmu({ posts: recording(), rate: 1, historySeconds: 40 });
    try {
      const asked = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: RULE, 'tweet.fields': 'note_tweet', max_results: 100 });
      assert.equal(asked.status, 200);
      check(new Map(asked.body.data!.map((p) => [p.id, p])), true);
      const bare = await getJson<SearchBody>(emu, '/2/tweets/search/recent', { query: RULE, max_results: 100 });
      check(new Map(bare.body.data!.map((p) => [p.id, p])), false);
    } finally {
      await emu.close();
    }
  });
});
