/** Where models live and how their manifests are read. */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from './errors.js';
import { ModelManifestSchema, type ModelManifest } from './manifest.js';

export type { ModelManifest } from './manifest.js';

/** The repository's models/ directory (holds one directory per tier). */
export const MODELS_ROOT = fileURLToPath(new URL('../../models/', import.meta.url));
export const TIERS = ['fast', 'accurate'] as const;
export const MANIFEST_FILE = 'model.json';

/**
 * `fast` | `accurate` → models/<tier>; anything else is a path to a directory holding model.json.
 * Throws ModelError CP_MODEL_NOT_FOUND when that directory has no model.json.
 */
export function resolveModelDir(spec: string): string {
  const s = spec.trim();
  if (s === '') throw new ModelError('CP_MODEL_NOT_FOUND', 'model spec is empty: use fast, accurate or a directory holding model.json');
  const dir = (TIERS as readonly string[]).includes(s) ? join(MODELS_ROOT, s) : resolve(s);
  const manifest = join(dir, MANIFEST_FILE);
  if (!existsSync(manifest) || !statSync(manifest).isFile()) {
    throw new ModelError('CP_MODEL_NOT_FOUND', `model "${spec}": ${manifest} does not exist (use fast, accurate or a directory holding ${MANIFEST_FILE})`);
  }
  return dir;
}

/** Reads and validates <dir>/model.json; checks that the files it names exist. */
export async function loadManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (e) {
    throw new ModelError('CP_MODEL_NOT_FOUND', `${file}: cannot read model manifest: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ModelError('CP_MODEL_MANIFEST_INVALID', `${file}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelError('CP_MODEL_MANIFEST_INVALID', `${file}: invalid model manifest: ${issues}`);
  }
  const m = parsed.data;
  const files = [m.onnx, ...(m.encoder.kind === 'wordpiece' ? [m.encoder.tokenizer, m.encoder.tokenizerConfig] : [])];
  for (const f of files) {
    if (!existsSync(join(dir, f))) throw new ModelError('CP_MODEL_FILE_MISSING', `${file}: names ${f}, which is not in ${dir}`);
  }
  return m;
}
