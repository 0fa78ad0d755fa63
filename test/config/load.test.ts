import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys, envNameOf, loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('config');

test('defaults give the embedded topology', () => {
  const r = loadConfig({});
  assert.ok(r.ok);
  assert.equal(r.value.source.kind, 'replay');
  assert.equal(r.value.sink.kind, 'sqlite');
  assert.equal(r.value.model.name, 'fast');
});

test('env names are derived from the schema keys', () => {
  assert.equal(envNameOf('model', 'maxBatch'), 'CROWDPULSE_MODEL_MAX_BATCH');
  assert.equal(envNameOf('deadLetter', 'path'), 'CROWDPULSE_DEAD_LETTER_PATH');
});

test('every number and flag key takes its default back as an environment string (env values are text)', () => {
  const defaults = loadConfig({});
  assert.ok(defaults.ok);
  const env: Record<string, string> = {};
  for (const { section, key, env: name } of configKeys()) {
    const value = (defaults.value as unknown as Record<string, Record<string, unknown>>)[section]?.[key];
    if (typeof value === 'number' || typeof value === 'boolean') env[name] = String(value);
  }
  assert.ok(Object.keys(env).length > 20, `numeric and flag keys found: ${Object.keys(env).length}`);
  const r = loadConfig({ env });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.deepEqual(r.value, defaults.value);
});

test('precedence: flag > env > file > default', () => {
  const file = join(dir, 'prec.yaml');
  writeFileSync(file, 'model:\n  name: accurate\n  threads: 3\nreplay:\n  rate: 10\n');
  const r = loadConfig({
    file,
    env: { CROWDPULSE_MODEL_THREADS: '2', CROWDPULSE_REPLAY_RATE: '20' },
    flags: { 'replay.rate': { value: '30', flag: '--rate' } },
  });
  assert.ok(r.ok);
  assert.equal(r.value.model.name, 'accurate');
  assert.equal(r.value.model.threads, 2);
  assert.equal(r.value.replay.rate, 30);
});

test('a bad env value gives one line naming key, value, origin and expected form', () => {
  const r = loadConfig({ env: { CROWDPULSE_MODEL_MAX_BATCH: 'lots' } });
  assert.ok(!r.ok);
  const line = r.error.message;
  assert.equal(line.split('\n').length, 1);
  assert.match(line, /model\.maxBatch/);
  assert.match(line, /"lots"/);
  assert.match(line, /CROWDPULSE_MODEL_MAX_BATCH/);
  assert.match(line, /number/);
});

test('a bad enum flag names the flag and the allowed values', () => {
  const r = loadConfig({ flags: { 'sink.kind': { value: 'postgres', flag: '--sink' } } });
  assert.ok(!r.ok);
  assert.match(r.error.message, /sink\.kind = "postgres" \(from flag --sink\)/);
  assert.match(r.error.message, /sqlite/);
});

test('a config file that is not valid YAML is refused with its name', () => {
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, 'model: [unclosed\n  name: x');
  const r = loadConfig({ file });
  assert.ok(!r.ok);
  assert.match(r.error.message, /broken\.yaml is not valid YAML/);
});

test('unknown sections and keys in a config file are refused (typos do not pass silently)', () => {
  const file = join(dir, 'typo.yaml');
  writeFileSync(file, 'model:\n  nmae: fast\n');
  const r = loadConfig({ file });
  assert.ok(!r.ok);
  assert.match(r.error.message, /unknown key "model\.nmae"/);
  writeFileSync(file, 'modle:\n  name: fast\n');
  const r2 = loadConfig({ file });
  assert.ok(!r2.ok);
  assert.match(r2.error.message, /unknown section "modle"/);
});

test('a wrong type in a file names the file', () => {
  const file = join(dir, 'type.json');
  writeFileSync(file, JSON.stringify({ http: { port: 70000 } }));
  const r = loadConfig({ file });
  assert.ok(!r.ok);
  assert.match(r.error.message, /http\.port = 70000 \(from config file .*type\.json\)/);
});

test('a missing config file is refused', () => {
  const r = loadConfig({ file: join(dir, 'nope.yaml') });
  assert.ok(!r.ok);
  assert.match(r.error.message, /does not exist/);
});
