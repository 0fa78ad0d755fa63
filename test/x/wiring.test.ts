import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import type { Post } from '../../src/contract/index.js';
import { buildXIngest } from '../../src/sources/x-stream/index.js';
import { listRules } from '../../src/x/rules.js';
import { clientFor, MemoryDeadLetters, startEmulator, TOKEN, until } from './helpers.js';
import { tempDir } from '../helpers.js';

describe('source.kind = x from configuration', () => {
  it('reads the token from the environment, syncs the rules file on start, streams tagged posts, persists the budget', async () => {
    const emu = await startEmulator();
    const dir = tempDir('xwire');
    const rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, 'rules:\n  - value: bitcoin\n    tag: crypto\n  - value: "#ai"\n    tag: ai\n');
    const statePath = join(dir, 'state', 'x.json');
    const env = {
      CROWDPULSE_SOURCE_KIND: 'x',
      CROWDPULSE_X_API_URL: emu.url,
      CROWDPULSE_X_RULES_FILE: rulesFile,
      CROWDPULSE_X_SYNC_RULES_ON_START: 'true',
      CROWDPULSE_X_STATE_PATH: statePath,
      CROWDPULSE_X_USAGE_CHECK_MINUTES: '0',
      X_BEARER_TOKEN: TOKEN,
    };
    const config = loadConfig({ env });
    assert.ok(config.ok, config.ok ? '' : config.error.message);
    const built = buildXIngest(config.value, new MemoryDeadLetters(), env);
    assert.ok(built.ok, built.ok ? '' : built.error.message);
    assert.equal(built.value.adminRoute, undefined, 'no admin token configured → no admin endpoint');
    const ac = new AbortController();
    const posts: Post[] = [];
    const done = (async () => {
      for await (const b of built.value.source.batches(ac.signal)) posts.push(...b.items);
    })();
    try {
      await until(() => posts.length >= 6, 5000, 'posts');
      assert.deepEqual((await listRules(clientFor(emu))).map((r) => r.tag).sort(), ['ai', 'crypto']);
      assert.ok(posts.every((p) => p.topics.some((t) => t === 'crypto' || t === 'ai')));
    } finally {
      ac.abort();
      await done; // no source.close(): the run role does not call it, the count must be flushed anyway
      await emu.close();
    }
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { consumed: number };
    assert.equal(state.consumed, posts.length, 'every received post is in the persisted count');
  });

  it('no token → one clear error naming where to put it', () => {
    const config = loadConfig({ env: { CROWDPULSE_SOURCE_KIND: 'x' } });
    assert.ok(config.ok);
    const built = buildXIngest(config.value, new MemoryDeadLetters(), {});
    assert.equal(built.ok, false);
    assert.match(built.ok ? '' : built.error.message, /^X credentials: no bearer token; set CROWDPULSE_X_BEARER_TOKEN or X_BEARER_TOKEN/);
  });

  it('a bearer token file is read and trimmed; an unreadable one is a clear error', async () => {
    const dir = tempDir('xtok');
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const ok = loadConfig({ env: { CROWDPULSE_X_BEARER_TOKEN_FILE: join(dir, 'token'), CROWDPULSE_X_MONTHLY_CAP: '0' } });
    assert.ok(ok.ok);
    const built = buildXIngest(ok.value, new MemoryDeadLetters(), {});
    assert.ok(built.ok);
    assert.equal(built.value.governor, undefined, 'monthlyCap 0 → no governor');
    const bad = loadConfig({ env: { CROWDPULSE_X_BEARER_TOKEN_FILE: join(dir, 'missing') } });
    assert.ok(bad.ok);
    const failed = buildXIngest(bad.value, new MemoryDeadLetters(), {});
    assert.match(failed.ok ? '' : failed.error.message, /cannot read bearer token file .*ENOENT/);
  });
});
