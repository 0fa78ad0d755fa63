import assert from 'node:assert/strict';

import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Post } from '../../src/contract/index.js';
import type { XEmulator } from '../../src/emulator/server.js';
import { ReplaySource } from '../../src/sources/replay/replay-source.js';
import { recordStream } from '../../src/sources/x-stream/recorder.js';
import { startTelemetryServer, type TelemetryServer } from '../../src/telemetry/http-server.js';
import { systemClock } from '../../src/x/clock.js';
import { RULES_ADMIN_PATH, rulesAdminRoute } from '../../src/x/rules-admin.js';
import { listRules, syncRules } from '../../src/x/rules.js';
import { clientFor, MemoryDeadLetters, startEmulator } from './helpers.js';
import { tempDir } from '../helpers.js';

describe('record → replay, and the rules admin endpoint', () => {
  let emu: XEmulator;
  before(async () => {
    emu = await startEmulator();
    assert.ok(
      (
        await syncRules(clientFor(emu), [
          { value: 'bitcoin', tag: 'crypto' },
          { value: '#ai OR lovely', tag: 'misc' },
        ])
      ).ok,
    );
  });
  after(async () => {
    await emu.close();
  });

  it('record saves the raw stream (gzip) and the replay source plays it back, malformed line dead-lettered', async () => {
    const out = join(tempDir('rec'), 'live.ndjson.gz');
    emu.inject({ kind: 'malformed' });
    const count = await recordStream(
      {
        client: clientFor(emu),
        clock: systemClock,
        tweetFields: ['created_at', 'lang'],
        lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 },
        keepAliveTimeoutMs: 20_000,
        usageCheckMs: 0,
        out,
        limit: 12,
      },
      new AbortController().signal,
    );
    assert.equal(count, 12);
    const dead = new MemoryDeadLetters();
    const replay = ReplaySource.open(
      { path: out, mode: 'max', rate: 1, speed: 1, batchSize: 100, limit: 0, lineLimits: { maxLineBytes: 1 << 20, keepBytes: 4096 } },
      dead,
    );
    assert.ok(replay.ok);
    const posts: Post[] = [];
    for await (const b of replay.value.batches(new AbortController().signal)) posts.push(...b.items);
    assert.equal(posts.length, 11);
    assert.equal(dead.letters.length, 1);
    assert.equal(dead.letters[0]!.code, 'invalid_json');
    assert.ok(posts.every((p) => p.topics.every((t) => t === 'crypto' || t === 'misc')));
  });

  describe('admin endpoint', () => {
    let server: TelemetryServer;
    const token = 'admin-secret';
    before(async () => {
      const route = rulesAdminRoute(clientFor(emu), token);
      assert.ok(route);
      server = await startTelemetryServer('127.0.0.1', 0, [route]);
    });
    after(async () => {
      await server.close();
    });
    const call = (method: string, body?: unknown, auth = `Bearer ${token}`) =>
      fetch(`${server.url}${RULES_ADMIN_PATH}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    it('is off without a configured token', () => {
      assert.equal(rulesAdminRoute(clientFor(emu), undefined), undefined);
    });
    it('refuses a missing or wrong token', async () => {
      assert.equal((await call('GET', undefined, '')).status, 401);
      assert.equal((await call('GET', undefined, 'Bearer nope')).status, 401);
    });
    it('lists, adds (validated), syncs by diff, and never deletes every rule', async () => {
      const listed = (await (await call('GET')).json()) as { rules: { tag: string }[] };
      assert.deepEqual(listed.rules.map((r) => r.tag).sort(), ['crypto', 'misc']);
      const bad = await call('POST', { add: [{ value: 'has:links', tag: 'links' }] });
      assert.equal(bad.status, 422);
      const added = await call('POST', { add: [{ value: 'weather', tag: 'weather' }] });
      assert.equal(added.status, 201);
      const synced = await call('PUT', {
        rules: [
          { value: 'bitcoin', tag: 'crypto' },
          { value: 'weather', tag: 'weather' },
        ],
      });
      assert.equal(synced.status, 200);
      assert.deepEqual(
        ((await synced.json()) as { removed: { tag: string }[] }).removed.map((r) => r.tag),
        ['misc'],
      );
      const live = await listRules(clientFor(emu));
      assert.deepEqual(live.map((r) => r.tag).sort(), ['crypto', 'weather']);
      const all = await call('POST', { delete: live.map((r) => r.id) });
      assert.equal(all.status, 422);
      assert.equal((await listRules(clientFor(emu))).length, 2);
      assert.equal((await call('PUT', { rules: [] })).status, 422);
    });
  });
});
