/**
 * #12.8: the layers of src/ depend one way. A module may import from its own folder and from the
 * layers below it, never from one above (e.g. kafka/ from commands/, x/ from sources/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helpers.js';

/** Bottom to top; folders on one line are peers and may not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['contract', 'errors.ts'],
  ['config'],
  ['telemetry'],
  ['query'],
  ['shifts'],
  ['pipeline'],
  ['alerts'],
  ['kafka', 'x', 'model'],
  ['sinks', 'sources', 'transforms'],
  ['emulator', 'dashboard'],
  ['roles'],
  ['commands'],
  ['cli.ts'],
];

const SRC = join(ROOT, 'src');
const layerOf = (file: string): number => {
  const top = relative(SRC, file).split('/')[0] ?? '';
  return LAYERS.findIndex((layer) => layer.includes(top));
};
const topOf = (file: string): string => relative(SRC, file).split('/')[0] ?? '';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'static' ? [] : files(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

test('#12.8 every folder of src/ has a layer, and no module imports from a layer above its own or from a peer folder', () => {
  const problems: string[] = [];
  for (const file of files(SRC)) {
    const own = layerOf(file);
    if (own < 0) {
      problems.push(`${relative(ROOT, file)}: its folder has no layer in test/architecture.test.ts`);
      continue;
    }
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1] ?? '');
      if (!target.startsWith(SRC) || topOf(target) === topOf(file)) continue;
      const theirs = layerOf(target);
      if (theirs >= own) problems.push(`${relative(ROOT, file)} imports ${m[1]} (${topOf(target)} is ${theirs === own ? 'a peer' : 'above'})`);
    }
  }
  assert.deepEqual(problems, []);
});
