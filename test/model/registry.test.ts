import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelError } from '../../src/model/errors.js';
import { MODELS_ROOT, loadManifest, resolveModelDir } from '../../src/model/registry.js';
import { tempDir } from '../helpers.js';

const good = {
  id: 'test-fast',
  tier: 'fast',
  labels: ['negative', 'neutral', 'positive'],
  onnx: 'model.onnx',
  encoder: { kind: 'hashed-ngrams', version: 'v1', buckets: 1024, maxFeatures: 64 },
  normalization: 'v1',
  serving: { maxBatch: 512, lengthSortedChunk: 0 },
};

function modelDir(manifest: unknown, files: string[] = ['model.onnx']): string {
  const dir = tempDir('model');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  for (const f of files) writeFileSync(join(dir, f), 'x');
  return dir;
}

async function rejects(dir: string, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadManifest(dir), (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected ModelError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    assert.ok(e.message.includes(join(dir, 'model.json')), `message names the file: ${e.message}`);
    return true;
  });
}

test('resolveModelDir: tier names map to models/<tier>, a directory path is taken as is', () => {
  assert.equal(resolveModelDir('fast'), join(MODELS_ROOT, 'fast'));
  const dir = modelDir(good);
  assert.equal(resolveModelDir(dir), dir);
});

test('resolveModelDir: an unknown spec or a directory without model.json is CP_MODEL_NOT_FOUND', () => {
  assert.throws(
    () => resolveModelDir('nope-not-a-dir'),
    (e: unknown) => e instanceof ModelError && e.code === 'CP_MODEL_NOT_FOUND' && /model\.json/.test(e.message),
  );
  assert.throws(
    () => resolveModelDir(tempDir('empty')),
    (e: unknown) => e instanceof ModelError && e.code === 'CP_MODEL_NOT_FOUND',
  );
  assert.throws(
    () => resolveModelDir(' '),
    (e: unknown) => e instanceof ModelError && e.code === 'CP_MODEL_NOT_FOUND',
  );
});

test('loadManifest: the committed tiers are valid', async () => {
  const fast = await loadManifest(resolveModelDir('fast'));
  assert.equal(fast.tier, 'fast');
  assert.equal(fast.encoder.kind, 'hashed-ngrams');
  assert.deepEqual(fast.labels, ['negative', 'neutral', 'positive']);
});

test('loadManifest: a valid manifest in a temp directory loads', async () => {
  const m = await loadManifest(modelDir(good));
  assert.equal(m.id, 'test-fast');
});

test('loadManifest: invalid JSON is CP_MODEL_MANIFEST_INVALID naming the file', async () => {
  await rejects(modelDir('{ not json'), 'CP_MODEL_MANIFEST_INVALID', /not valid JSON/);
});

test('loadManifest: wrong label order, unknown encoder, bad buckets, unknown normalisation are rejected with the field', async () => {
  await rejects(modelDir({ ...good, labels: ['positive', 'neutral', 'negative'] }), 'CP_MODEL_MANIFEST_INVALID', /labels/);
  await rejects(modelDir({ ...good, encoder: { kind: 'bpe' } }), 'CP_MODEL_MANIFEST_INVALID', /encoder/);
  await rejects(modelDir({ ...good, encoder: { ...good.encoder, buckets: 1000 } }), 'CP_MODEL_MANIFEST_INVALID', /encoder\.buckets: must be a power of two/);
  await rejects(modelDir({ ...good, normalization: 'v2' }), 'CP_MODEL_MANIFEST_INVALID', /normalization/);
  await rejects(modelDir({ ...good, tier: 'huge' }), 'CP_MODEL_MANIFEST_INVALID', /tier/);
  await rejects(modelDir({ ...good, serving: { maxBatch: 0, lengthSortedChunk: 0 } }), 'CP_MODEL_MANIFEST_INVALID', /serving\.maxBatch/);
  await rejects(modelDir({ ...good, onnx: '../elsewhere.onnx' }), 'CP_MODEL_MANIFEST_INVALID', /onnx/);
});

test('loadManifest: a missing ONNX or tokenizer file is CP_MODEL_FILE_MISSING', async () => {
  await rejects(modelDir(good, []), 'CP_MODEL_FILE_MISSING', /model\.onnx/);
  const wp = {
    ...good,
    tier: 'accurate',
    encoder: { kind: 'wordpiece', tokenizer: 'tokenizer.json', tokenizerConfig: 'tokenizer_config.json', maxLength: 64 },
  };
  await rejects(modelDir(wp, ['model.onnx', 'tokenizer_config.json']), 'CP_MODEL_FILE_MISSING', /tokenizer\.json/);
});
