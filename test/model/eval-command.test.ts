/**
 * crowdpulse eval, end to end through the real CLI, the analyze stage's transform and its worker
 * pool: on a small labelled file written here, its numbers must equal those computed from the
 * same model run directly (encoder + onnxruntime-node) on the same posts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { createEncoder } from '../../src/model/encoder.js';
import { argmax3, score } from '../../src/model/accuracy.js';
import { loadManifest, resolveModelDir } from '../../src/model/registry.js';
import { ROOT, tempDir } from '../helpers.js';
import { syntheticPosts } from './support.js';

test('crowdpulse eval FILE --json equals the model run directly; the text report has every part', { timeout: 120_000 }, async () => {
  const posts = syntheticPosts().filter((p) => p.trim() !== '' && !p.includes('\n'));
  const labels = posts.map((_, i) => i % 3);
  const dir = tempDir('eval');
  const file = join(dir, 'mini_text.txt');
  writeFileSync(file, posts.join('\n') + '\n');
  writeFileSync(join(dir, 'mini_labels.txt'), labels.join('\n') + '\n');

  const modelDir = resolveModelDir('fast');
  const manifest = await loadManifest(modelDir);
  const session = await ort.InferenceSession.create(join(modelDir, manifest.onnx), { intraOpNumThreads: 1 });
  const probs = (await session.run((await createEncoder(manifest, modelDir)).encode(posts))).probs!.data as Float32Array;
  await session.release();
  const expected = score(
    labels,
    posts.map((_, i) => argmax3(probs, i * 3)),
  );

  const cli = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'eval', file, '--model', 'fast', '--threads', '1', ...args], {
      encoding: 'utf8',
      timeout: 100_000,
    });
  const json = cli(['--json']);
  assert.equal(json.status, 0, json.stderr);
  const got = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as { macroRecall: number; confusion: number[][]; model: string; n: number };
  assert.equal(got.model, manifest.id);
  assert.equal(got.n, posts.length);
  assert.deepEqual(got.confusion, expected.confusion);
  assert.equal(got.macroRecall, expected.macroRecall);

  const text = cli([]);
  assert.equal(text.status, 0, text.stderr);
  for (const part of ['accuracy', 'macro-recall', 'recall', 'confusion', 'posts/s']) assert.match(text.stdout, new RegExp(part));

  const bad = spawnSync(process.execPath, [join(ROOT, 'bin/crowdpulse.js'), 'eval', join(dir, 'nolabels_text.txt')], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
});
