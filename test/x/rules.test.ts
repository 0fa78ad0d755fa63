import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiResponseError } from 'twitter-api-v2';
import type { XEmulator } from '../../src/emulator/server.js';
import { diffRules, listRules, syncRules, validateRules, validateRulesDocument } from '../../src/x/rules.js';
import { parseRule } from '../../src/emulator/rule-language.js';
import { clientFor, startEmulator, TOKEN } from './helpers.js';
import { ManualClock } from '../../src/x/clock.js';
import { RestRateLimits } from '../../src/x/rest-rate-limits.js';

describe('rules as code against the emulator (real twitter-api-v2 client)', () => {
  let emu: XEmulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('syncs by diff: adds the missing, deletes the stale, keeps the rest (same ids)', async () => {
    const client = clientFor(emu);
    const first = await syncRules(client, [
      { value: 'bitcoin lang:en', tag: 'crypto' },
      { value: '#ai OR "machine learning"', tag: 'ai' },
      { value: 'weather', tag: 'weather' },
    ]);
    assert.ok(first.ok, first.ok ? '' : first.error.message);
    const live1 = await listRules(client);
    assert.equal(live1.length, 3);
    const aiId = live1.find((r) => r.tag === 'ai')!.id;

    const second = await syncRules(client, [
      { value: '#ai OR "machine learning"', tag: 'ai' },
      { value: 'bitcoin lang:en', tag: 'bitcoin' },
      { value: 'lovely -weather', tag: 'mood' },
    ]);
    assert.ok(second.ok, second.ok ? '' : second.error.message);
    assert.deepEqual(second.value.diff.add.map((r) => r.tag).sort(), ['bitcoin', 'mood']);
    assert.deepEqual(second.value.diff.remove.map((r) => r.tag).sort(), ['crypto', 'weather']);
    assert.deepEqual(
      second.value.diff.keep.map((r) => r.id),
      [aiId],
    );
    const live2 = await listRules(client);
    assert.deepEqual(live2.map((r) => r.tag).sort(), ['ai', 'bitcoin', 'mood']);
    assert.equal(live2.find((r) => r.tag === 'ai')!.id, aiId, 'an unchanged rule keeps its id');

    const third = await syncRules(client, [
      { value: '#ai OR "machine learning"', tag: 'ai' },
      { value: 'bitcoin lang:en', tag: 'bitcoin' },
      { value: 'lovely -weather', tag: 'mood' },
    ]);
    assert.ok(third.ok);
    assert.equal(third.value.applied, false, 'nothing to do → no write');
  });

  it('validates with dry_run first: one bad rule → nothing changes, X error text surfaces', async () => {
    const client = clientFor(emu);
    const before = await listRules(client);
    const r = await syncRules(client, [
      { value: 'bitcoin lang:en', tag: 'bitcoin' },
      { value: 'lang:en', tag: 'standalone-operator' },
      { value: 'foo:bar baz', tag: 'unknown-op' },
    ]);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error.message, /UnprocessableEntity "lang:en".*UnprocessableEntity "foo:bar baz": Reference to invalid operator 'foo'/);
    assert.deepEqual(await listRules(client), before);
  });

  it('refuses an empty desired set instead of deleting every rule', async () => {
    const r = await syncRules(clientFor(emu), []);
    assert.equal(r.ok, false);
    assert.ok((await listRules(clientFor(emu))).length > 0);
  });

  it('duplicate values come back as DuplicateRule in X format', async () => {
    const client = clientFor(emu);
    const res = await client.v2.updateStreamRules({ add: [{ value: 'bitcoin lang:en', tag: 'again' }] });
    const errors = (res as unknown as { errors: { title: string; type: string; id: string }[] }).errors;
    assert.equal(errors[0]!.title, 'DuplicateRule');
    assert.equal(errors[0]!.type, 'https://api.twitter.com/2/problems/duplicate-rules');
    assert.ok((await validateRules(client, [{ value: 'brand new', tag: 'x' }])).ok);
  });

  it('a wrong bearer token is a 401 in X format', async () => {
    await assert.rejects(
      listRules(clientFor(emu, 'wrong')),
      (e: unknown) => e instanceof ApiResponseError && e.code === 401 && (e.data as { title: string }).title === 'Unauthorized',
    );
  });

  it('REST calls wait for their endpoint window (x-rate-limit-remaining 0) instead of drawing a 429', async () => {
    const clock = new ManualClock();
    const limited = await startEmulator({ clock, rateLimits: { 'GET /2/tweets/search/stream/rules': 2 } });
    try {
      const limits = new RestRateLimits(clock);
      const client = clientFor(limited, TOKEN, limits);
      await listRules(client);
      await listRules(client);
      assert.equal(limits.get('GET /2/tweets/search/stream/rules')?.remaining, 0);
      let done = false;
      const third = listRules(client).then(() => {
        done = true;
      });
      const wait = await clock.waitForSleep();
      assert.ok(wait > 14 * 60_000 && wait <= 15 * 60_000, `waits for the window reset (${wait} ms)`);
      assert.equal(done, false);
      await clock.advance(wait);
      await third;
      assert.equal(done, true);
      // Without the limiter, the call past the window's limit is a 429 in X's format (1 of 2 used by `third`).
      const bare = clientFor(limited);
      await listRules(bare);
      await assert.rejects(listRules(bare), (e: unknown) => e instanceof ApiResponseError && e.code === 429 && e.rateLimit?.remaining === 0);
    } finally {
      await limited.close();
    }
  });

  it('rules file validation: shape and duplicate values', () => {
    assert.ok(validateRulesDocument({ rules: [{ value: 'a', tag: 'x' }] }, 'f').ok);
    assert.match(String((validateRulesDocument({ rules: [{ value: 'a' }] }, 'f') as { error: Error }).error?.message), /rules\.0\.tag/);
    assert.match(
      String(
        (
          validateRulesDocument(
            {
              rules: [
                { value: 'a', tag: 'x' },
                { value: 'a', tag: 'y' },
              ],
            },
            'f',
          ) as { error: Error }
        ).error?.message,
      ),
      /repeats the value/,
    );
    const d = diffRules([{ value: 'a', tag: 'x' }], [{ id: '1', value: 'a', tag: 'old' }]);
    assert.equal(d.add.length, 1);
    assert.equal(d.remove.length, 1);
  });

  it('rule language subset: grammar errors as X words them', () => {
    assert.ok(parseRule('(a OR b) -c #tag @user lang:en -is:retweet has:links').ok);
    assert.equal(parseRule('(a OR b').ok, false);
    assert.equal(parseRule('a OR').ok, false);
    assert.equal(parseRule('-a -b').ok, false);
    assert.equal(parseRule('x'.repeat(513)).ok, false);
  });
});
