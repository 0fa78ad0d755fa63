import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { XEmulator } from '../../src/emulator/server.js';
import { startTelemetryServer, type TelemetryServer } from '../../src/telemetry/http-server.js';
import { RULES_ADMIN_PATH, rulesAdminRoute } from '../../src/x/rules-admin.js';
import { listRules } from '../../src/x/rules.js';
import { clientFor, startEmulator } from './helpers.js';

describe('#14.2 the rules admin endpoint: a live value is "already live", never a refusal', () => {
  let emu: XEmulator;
  let server: TelemetryServer;
  const token = 'admin-secret';
  before(async () => {
    emu = await startEmulator({ initialRules: [{ value: 'bitcoin', tag: 'crypto' }] });
    server = await startTelemetryServer('127.0.0.1', 0, [rulesAdminRoute(clientFor(emu), token)!]);
  });
  after(async () => {
    await server.close();
    await emu.close();
  });
  const call = async (method: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${server.url}${RULES_ADMIN_PATH}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('POST add with one invalid rule and one live: 422 naming only the invalid rule; the live one in alreadyLive', async () => {
    const r = await call('POST', {
      add: [
        { value: 'foo:bar baz', tag: 'bad' },
        { value: 'bitcoin', tag: 'crypto' },
      ],
    });
    assert.equal(r.status, 422);
    assert.match(String(r.body.error), /^X refused 1 of 2 rules .*UnprocessableEntity "foo:bar baz".*already live \(not refused, kept\): "bitcoin"/);
    assert.doesNotMatch(String(r.body.error), /DuplicateRule/);
    assert.deepEqual(
      (r.body.refused as { value: string }[]).map((x) => x.value),
      ['foo:bar baz'],
    );
    const live = r.body.alreadyLive as { value: string; tag: string; live: { id: string; tag: string } }[];
    assert.equal(live.length, 1);
    assert.equal(live[0]!.value, 'bitcoin');
    assert.equal(live[0]!.live.tag, 'crypto');
  });

  it('POST add with one live and one new: 201, the new one added, the live one kept and reported', async () => {
    const r = await call('POST', {
      add: [
        { value: 'bitcoin', tag: 'crypto' },
        { value: 'weather', tag: 'weather' },
      ],
    });
    assert.equal(r.status, 201);
    assert.deepEqual(
      (r.body.added as { value: string }[]).map((x) => x.value),
      ['weather'],
    );
    assert.deepEqual(
      (r.body.alreadyLive as { value: string }[]).map((x) => x.value),
      ['bitcoin'],
    );
    const only = await call('POST', { add: [{ value: 'bitcoin', tag: 'crypto' }] });
    assert.equal(only.status, 200, 'nothing created: 200, not 201, and no refusal');
    assert.deepEqual(only.body.added, []);
    assert.deepEqual((await listRules(clientFor(emu))).map((x) => x.value).sort(), ['bitcoin', 'weather']);
  });
});
