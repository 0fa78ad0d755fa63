/**
 * #14 the publication timeline on the stream: X publishes whether or not anyone listens, so a
 * disconnect or a stall loses what is published meanwhile; a slow reader keeps its place up to a
 * bound, then is disconnected; a reader that keeps up gets everything. Published posts are read
 * back through search/recent ('published' timestamps give every publication its own id).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { XEmulator } from '../../src/emulator/server.js';
import { snowflakeTime } from '../../src/emulator/timeline.js';
import { addRules, readStream, searchAll, sleep, startEmu, until, type StreamReader } from './helpers.js';

/** Every post published so far, oldest first (the stream rule is the query: live publication holds only its matches). */
async function publishedIds(emu: XEmulator): Promise<string[]> {
  return (await searchAll(emu, { query: 'bitcoin' })).posts.map((p) => p.id).reverse();
}

const ids = (r: StreamReader): string[] => r.posts.map((p) => p.data.id);

/** Where each received id sits in the published timeline; throws if one was never published. */
function positions(published: readonly string[], received: readonly string[]): number[] {
  const at = new Map(published.map((id, i) => [id, i]));
  return received.map((id) => {
    const i = at.get(id);
    assert.ok(i !== undefined, `received ${id}, which search does not know`);
    return i;
  });
}

/** Runs of consecutive timeline positions the reader skipped. */
function gaps(pos: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < pos.length; i++) if (pos[i]! - pos[i - 1]! !== 1) out.push(pos[i]! - pos[i - 1]! - 1);
  return out;
}

async function withEmu(opts: Parameters<typeof startEmu>[0], fn: (emu: XEmulator) => Promise<void>): Promise<void> {
  const emu = await startEmu({ timestamps: 'published', searchEndLagMs: 0, ...opts });
  try {
    await addRules(emu, [{ value: 'bitcoin', tag: 'crypto' }]);
    await fn(emu);
  } finally {
    await emu.close();
  }
}

describe('the stream follows the publication timeline', () => {
  it('a reader that keeps up gets every post from its connection on, in order, nothing lost', async () => {
    await withEmu({ rate: 1000 }, async (emu) => {
      const a = readStream(emu);
      assert.equal(await a.status, 200);
      await until(() => a.posts.length >= 400, 10_000, '400 posts');
      a.close();
      const published = await publishedIds(emu);
      assert.ok(published.length >= 400);
      // The first connection started publication: it got the timeline from its first post on.
      assert.deepEqual(ids(a), published.slice(0, a.posts.length));
      assert.ok(a.posts.every((p) => p.matching_rules[0]?.tag === 'crypto'));
    });
  });

  it('a dropped connection misses what is published until it reconnects; the new one starts at the newest post', async () => {
    await withEmu({ rate: 300 }, async (emu) => {
      const a = readStream(emu);
      await until(() => a.posts.length >= 10, 5000, 'first posts');
      emu.inject({ kind: 'drop' });
      await a.ended;
      const publishedAtDrop = emu.stats.postsPublished;
      await until(() => emu.stats.postsPublished >= publishedAtDrop + 30, 5000, 'posts published while disconnected');
      const beforeB = emu.stats.postsPublished;
      const b = readStream(emu);
      assert.equal(await b.status, 200);
      await until(() => b.posts.length >= 10, 5000, 'posts after the reconnect');
      b.close();
      await until(() => emu.openConnections() === 0, 2000, 'closed');

      const published = await publishedIds(emu);
      const pa = positions(published, ids(a));
      const pb = positions(published, ids(b));
      assert.deepEqual(gaps(pa), [], 'nothing lost while connected');
      assert.deepEqual(gaps(pb), []);
      assert.equal(pa[0], 0);
      assert.ok(pb[0]! >= beforeB, `the new connection starts after the newest post (${pb[0]} ≥ ${beforeB}), no replay`);
      const missed = published.slice(pa.at(-1)! + 1, pb[0]);
      assert.ok(missed.length >= 30, `missed ${missed.length} posts published while disconnected`);
      const received = new Set([...ids(a), ...ids(b)]);
      assert.ok(
        missed.every((id) => !received.has(id)),
        'X does not replay',
      );
      assert.equal(emu.stats.streamConnects, 2);
    });
  });

  it('a stalled connection misses what is published during the stall, then goes on on the same connection', async () => {
    await withEmu({ rate: 300 }, async (emu) => {
      const a = readStream(emu);
      await until(() => a.posts.length >= 10, 5000, 'first posts');
      emu.inject({ kind: 'stall', ms: 400 });
      const atStall = a.posts.length;
      await sleep(400);
      await until(() => a.posts.length >= atStall + 20, 5000, 'posts after the stall');
      a.close();
      const published = await publishedIds(emu);
      const g = gaps(positions(published, ids(a)));
      assert.equal(g.length, 1, `one gap, the stall: ${JSON.stringify(g)}`);
      assert.ok(g[0]! >= 40, `about 400 ms at 300/s missed, got ${g[0]}`);
      assert.equal(emu.stats.streamConnects, 1, 'no reconnect');
    });
  });

  it('a slow reader keeps its place in the timeline (a short drip loses nothing)', async () => {
    await withEmu({ rate: 500 }, async (emu) => {
      const a = readStream(emu);
      await until(() => a.posts.length >= 5, 5000, 'first posts');
      emu.inject({ kind: 'drip', ms: 300, bytes: 16, intervalMs: 1 });
      await sleep(300);
      await until(() => a.posts.length >= 300, 10_000, 'the backlog and more');
      a.close();
      const published = await publishedIds(emu);
      const pa = positions(published, ids(a));
      assert.deepEqual(gaps(pa), [], 'the backlog was delivered, in order');
      assert.equal(pa[0], 0);
      assert.equal(emu.stats.slowConsumerDisconnects, 0);
      assert.equal(emu.stats.streamConnects, 1);
    });
  });

  it('beyond maxBacklog posts behind, the emulator ends the connection with the operational-disconnect payload', async () => {
    await withEmu({ rate: 500, maxBacklog: 30 }, async (emu) => {
      emu.inject({ kind: 'drip', ms: 60_000, bytes: 1, intervalMs: 1000 }); // for the next connection
      const a = readStream(emu);
      assert.equal(await a.status, 200);
      await Promise.race([a.ended, sleep(5000)]);
      assert.equal(emu.openConnections(), 0, 'ended by the emulator');
      assert.equal(emu.stats.slowConsumerDisconnects, 1);
      const last = JSON.parse(a.lines.at(-1)!) as { errors?: { title: string; disconnect_type: string }[] };
      assert.equal(last.errors?.[0]?.title, 'operational-disconnect');
      assert.ok(emu.stats.postsPublished > 30, `published ${emu.stats.postsPublished} meanwhile`);
      assert.ok(a.posts.length <= 2, 'it had been served almost nothing');
    });
  });

  it("'published' timestamps: ids are snowflakes of created_at, unique and increasing across loops of the recording", async () => {
    await withEmu({ rate: 1000 }, async (emu) => {
      const a = readStream(emu, 'tweet.fields=created_at');
      await until(() => a.posts.length >= 200, 10_000, '200 posts');
      a.close();
      const texts = new Set(a.posts.map((p) => p.data.text));
      assert.equal(texts.size, 6, 'the 6 matching posts of the recording, over and over (30+ loops)');
      let prev = -1n;
      for (const p of a.posts) {
        const id = BigInt(p.data.id);
        assert.ok(id > prev, `${id} after ${prev}`);
        prev = id;
        assert.equal(p.data.created_at, new Date(snowflakeTime(id)).toISOString());
        assert.deepEqual(p.data.edit_history_tweet_ids, [p.data.id]);
      }
    });
  });

  it("'recorded' timestamps (default) serve the recorded id and created_at, repeating across loops", async () => {
    const emu = await startEmu({ rate: 1000 });
    try {
      await addRules(emu, [{ value: 'bitcoin' }]);
      const a = readStream(emu, 'tweet.fields=created_at');
      await until(() => a.posts.length >= 20, 5000, '20 posts');
      a.close();
      assert.equal(new Set(ids(a)).size, 6);
      assert.equal(a.posts[0]!.data.id, '1000000');
      assert.equal(a.posts[0]!.data.created_at, '2026-01-01T00:00:00.000Z');
    } finally {
      await emu.close();
    }
  });

  it('without loop, publication stops at the end of the recording', async () => {
    await withEmu({ rate: 1000, loop: false }, async (emu) => {
      const a = readStream(emu);
      await until(() => a.posts.length >= 6, 5000, 'the 6 matching posts');
      await sleep(200);
      a.close();
      assert.equal(emu.stats.postsPublished, 6);
      assert.equal(a.posts.length, 6);
    });
  });

  it('nothing is published before the first stream connection (without history)', async () => {
    await withEmu({ rate: 1000 }, async (emu) => {
      await sleep(100);
      assert.equal(emu.stats.postsPublished, 0);
      const state = (await (await fetch(`${emu.url}/_emulator/state`)).json()) as { published: { total: number; liveStarted: boolean } };
      assert.deepEqual([state.published.total, state.published.liveStarted], [0, false]);
    });
  });
});
