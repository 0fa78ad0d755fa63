import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiResponseError } from 'twitter-api-v2';
import type { XEmulator } from '../../src/emulator/server.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { TwitterApi, type ITwitterApiClientPlugin } from 'twitter-api-v2';
import {
  addRules,
  diffRules,
  listRules,
  loadRulesDocument,
  loadRulesFile,
  RulesError,
  syncRules,
  validateRules,
  validateRulesDocument,
} from '../../src/x/rules.js';
import { urlRewritePlugin } from '../../src/x/client.js';
import { parseRule } from '../../src/x/rule-language.js';
import { clientFor, startEmulator, TOKEN } from './helpers.js';
import { ManualClock } from '../../src/x/clock.js';
import { RestRateLimits } from '../../src/x/rest-rate-limits.js';
import { tempDir } from '../helpers.js';

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

describe('#14.2: a refused add names only the rules X refused; a live value is "already live", never a refusal', () => {
  let emu: XEmulator;
  const LIVE = { value: 'bitcoin lang:en', tag: 'crypto' };
  before(async () => {
    emu = await startEmulator({ initialRules: [LIVE] });
  });
  after(async () => {
    await emu.close();
  });

  it('addRules: one invalid rule and one already live → the message names the invalid one and says the other is live', async () => {
    const client = clientFor(emu);
    const before = await listRules(client);
    const r = await addRules(client, [{ value: 'foo:bar baz', tag: 'bad' }, LIVE, { value: 'weather', tag: 'weather' }]);
    assert.equal(r.ok, false);
    const e = (r as { error: RulesError }).error;
    assert.ok(e instanceof RulesError);
    assert.equal(e.code, 'CP_X_RULES');
    assert.match(e.message, /^X refused 1 of 3 rules \(dry run, nothing changed\): UnprocessableEntity "foo:bar baz": Reference to invalid operator 'foo'/);
    assert.doesNotMatch(e.message, /DuplicateRule/, 'a live value is not reported among the refusals');
    assert.match(e.message, /already live \(not refused, kept\): "bitcoin lang:en" \(tag crypto, id \d+\)/);
    assert.deepEqual(
      e.refused.map((x) => x.value),
      ['foo:bar baz'],
    );
    assert.deepEqual(
      e.alreadyLive.map((a) => [a.value, a.live.tag]),
      [['bitcoin lang:en', 'crypto']],
    );
    assert.deepEqual(await listRules(client), before, 'nothing changed');
  });

  it('addRules: a live rule and a new one → the new one is added, the live one reported as already live', async () => {
    const client = clientFor(emu);
    const r = await addRules(client, [LIVE, { value: 'weather', tag: 'weather' }]);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.deepEqual(
      r.value.created.map((c) => c.value),
      ['weather'],
    );
    assert.deepEqual(
      r.value.alreadyLive.map((a) => a.value),
      ['bitcoin lang:en'],
    );
    const again = await addRules(client, [{ value: 'weather', tag: 'other' }]);
    assert.ok(again.ok, 'only live values: nothing to add, nothing refused');
    assert.deepEqual(again.value.created, []);
    assert.equal(again.value.alreadyLive[0]!.live.tag, 'weather');
    assert.equal(again.value.alreadyLive[0]!.requestedTag, 'other');
    assert.deepEqual((await listRules(client)).map((x) => x.tag).sort(), ['crypto', 'weather']);
  });

  it('validateRules: a live value is valid; an invalid rule beside it is the only refusal', async () => {
    const client = clientFor(emu);
    const fine = await validateRules(client, [LIVE, { value: 'brand new', tag: 'new' }]);
    assert.ok(fine.ok);
    assert.deepEqual(
      fine.value.alreadyLive.map((a) => a.value),
      ['bitcoin lang:en'],
    );
    const bad = await validateRules(client, [LIVE, { value: '(a OR b', tag: 'broken' }]);
    assert.equal(bad.ok, false);
    const message = (bad as { error: Error }).error.message;
    assert.match(message, /X refused 1 of 2 rules .*"\(a OR b".*already live .*"bitcoin lang:en"/);
    assert.doesNotMatch(message, /DuplicateRule/);
  });

  it('a value repeated inside one request (not live) is still a refusal', async () => {
    const r = await addRules(clientFor(emu), [
      { value: 'twice', tag: 'a' },
      { value: 'twice', tag: 'b' },
    ]);
    assert.equal(r.ok, false);
    assert.match((r as { error: Error }).error.message, /DuplicateRule "twice"/);
  });

  it('syncRules: an invalid addition beside kept rules names only the invalid one', async () => {
    const client = clientFor(emu);
    const r = await syncRules(client, [LIVE, { value: 'weather', tag: 'weather' }, { value: 'lang:en', tag: 'standalone' }]);
    assert.equal(r.ok, false);
    const message = (r as { error: Error }).error.message;
    assert.match(message, /^X refused 1 of 1 rule \(dry run, nothing changed\): UnprocessableEntity "lang:en"/);
    assert.doesNotMatch(message, /bitcoin|weather/);
  });
});

describe("#14.5: budgets in the rules file are crowdpulse's own, never sent to X", () => {
  let emu: XEmulator;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('loadRulesDocument reads budgets; loadRulesFile returns the rules as before; postRules sends only value and tag', async () => {
    const dir = tempDir('rules');
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'rules:\n  - {value: bitcoin, tag: brand-a}\n  - {value: weather, tag: election}\nbudgets: {brand-a: 20000, election: 5000}\n');
    const doc = loadRulesDocument(file);
    assert.ok(doc.ok, doc.ok ? '' : doc.error.message);
    assert.deepEqual(
      [...doc.value.budgets],
      [
        ['brand-a', 20000],
        ['election', 5000],
      ],
    );
    const rules = loadRulesFile(file);
    assert.ok(rules.ok);
    assert.deepEqual(rules.value, doc.value.rules);

    const sent: unknown[] = [];
    const capture: ITwitterApiClientPlugin = {
      onBeforeRequestConfig: ({ params }) => {
        if (params.method?.toUpperCase() === 'POST') sent.push(params.body);
      },
    };
    const client = new TwitterApi(TOKEN, { plugins: [urlRewritePlugin(emu.url), capture], httpAgent: new http.Agent() });
    // Extra properties on a rule (a budget, say) must not travel either.
    const withExtras = doc.value.rules.map((r) => ({ ...r, budget: 1 }));
    const synced = await syncRules(client, withExtras);
    assert.ok(synced.ok, synced.ok ? '' : synced.error.message);
    const adds = sent.flatMap((b) => ((b as { add?: unknown[] }).add ?? []) as Record<string, unknown>[]);
    assert.ok(adds.length >= 2);
    for (const a of adds) assert.deepEqual(Object.keys(a).sort(), ['tag', 'value']);
    assert.ok(sent.every((b) => !JSON.stringify(b).includes('budget')));
  });

  it('budgets must be whole non-negative numbers', () => {
    assert.equal(validateRulesDocument({ rules: [{ value: 'a', tag: 'x' }], budgets: { x: -1 } }, 'f').ok, false);
    assert.equal(validateRulesDocument({ rules: [{ value: 'a', tag: 'x' }], budgets: { x: 1.5 } }, 'f').ok, false);
    assert.ok(validateRulesDocument({ rules: [{ value: 'a', tag: 'x' }], budgets: { x: 0 } }, 'f').ok);
  });
});
