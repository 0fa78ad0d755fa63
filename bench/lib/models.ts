/** The model tiers as the bench sees them: present or not, their id and ONNX file. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './child.js';

export interface TierInfo {
  readonly tier: string;
  readonly dir: string;
  readonly id: string;
  readonly onnx: string;
  readonly bytes: number;
  readonly manifest: Readonly<Record<string, unknown>>;
}

export function tierInfo(tier: string): TierInfo | undefined {
  const dir = join(REPO, 'models', tier);
  const file = join(dir, 'model.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { readonly onnx?: string; readonly id?: string };
  const onnx = join(dir, String(manifest.onnx ?? 'model.onnx'));
  return { tier, dir, id: String(manifest.id ?? tier), onnx, bytes: existsSync(onnx) ? statSync(onnx).size : 0, manifest };
}
