import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { err, ok, type Result } from '../contract/result.js';
import { configSchema, type Config } from './schema.js';

/** A configuration problem, already phrased as the one line a user sees. */
export class ConfigError extends Error {
  readonly code = 'CP_CONFIG_INVALID';
}

type Origin = { readonly kind: 'default' } | { readonly kind: 'file'; readonly file: string } | { readonly kind: 'env'; readonly name: string } | { readonly kind: 'flag'; readonly name: string };
type Layer = Record<string, Record<string, unknown>>;

export interface ConfigInput {
  /** Path of a YAML or JSON config file, if any. */
  readonly file?: string | undefined;
  /** Usually process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by dotted key ("model.name") with the flag they came from. */
  readonly flags?: Readonly<Record<string, { readonly value: unknown; readonly flag: string }>>;
}

const ENV_PREFIX = 'CROWDPULSE_';

/** model.maxBatch → CROWDPULSE_MODEL_MAX_BATCH */
export function envNameOf(section: string, key: string): string {
  const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return `${ENV_PREFIX}${snake(section)}_${snake(key)}`;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> {
  let current: z.ZodType = schema;
  while (!(current instanceof z.ZodObject)) {
    const inner = (current as unknown as { _zod: { def: { innerType?: z.ZodType } } })._zod.def.innerType;
    if (!inner) throw new Error('config section is not an object schema');
    current = inner;
  }
  return current.shape as Record<string, z.ZodType>;
}

/** Every (section, key) the schema knows, with its environment variable name. */
export function configKeys(): { section: string; key: string; env: string }[] {
  const keys: { section: string; key: string; env: string }[] = [];
  for (const [section, sectionSchema] of Object.entries(configSchema.shape)) {
    for (const key of Object.keys(objectShape(sectionSchema as z.ZodType))) keys.push({ section, key, env: envNameOf(section, key) });
  }
  return keys;
}

function describe(origin: Origin): string {
  switch (origin.kind) {
    case 'file':
      return `from config file ${origin.file}`;
    case 'env':
      return `from environment ${origin.name}`;
    case 'flag':
      return `from flag ${origin.name}`;
    default:
      return 'default';
  }
}

function readFileLayer(file: string): Result<Layer, ConfigError> {
  if (!existsSync(file)) return err(new ConfigError(`config error: config file ${file} does not exist`));
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    return err(new ConfigError(`config error: config file ${file} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`));
  }
  if (parsed === null || parsed === undefined) return ok({});
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return err(new ConfigError(`config error: config file ${file} must hold a mapping of sections, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`));
  const known = new Map(configKeys().map((k) => [`${k.section}.${k.key}`, k]));
  const sections = new Set(configKeys().map((k) => k.section));
  for (const [section, values] of Object.entries(parsed as Record<string, unknown>)) {
    if (!sections.has(section)) return err(new ConfigError(`config error: unknown section "${section}" in config file ${file}; known sections: ${[...sections].join(', ')}`));
    if (typeof values !== 'object' || values === null || Array.isArray(values)) return err(new ConfigError(`config error: section "${section}" in config file ${file} must be a mapping of keys`));
    for (const key of Object.keys(values)) {
      if (!known.has(`${section}.${key}`)) return err(new ConfigError(`config error: unknown key "${section}.${key}" in config file ${file}`));
    }
  }
  return ok(parsed as Layer);
}

/**
 * Defaults < config file < CROWDPULSE_* environment < flags, validated once. The first invalid value
 * becomes one error line naming the key, the value, where it came from, and the expected form.
 */
export function loadConfig(input: ConfigInput = {}): Result<Config, ConfigError> {
  const merged: Layer = {};
  const origins = new Map<string, Origin>();
  const set = (section: string, key: string, value: unknown, origin: Origin): void => {
    (merged[section] ??= {})[key] = value;
    origins.set(`${section}.${key}`, origin);
  };

  if (input.file !== undefined) {
    const fileLayer = readFileLayer(input.file);
    if (!fileLayer.ok) return fileLayer;
    for (const [section, values] of Object.entries(fileLayer.value)) {
      for (const [key, value] of Object.entries(values)) set(section, key, value, { kind: 'file', file: input.file });
    }
  }
  const env = input.env ?? {};
  for (const { section, key, env: name } of configKeys()) {
    const value = env[name];
    if (value !== undefined && value !== '') set(section, key, value, { kind: 'env', name });
  }
  for (const [dotted, { value, flag }] of Object.entries(input.flags ?? {})) {
    if (value === undefined) continue;
    const [section, key] = dotted.split('.') as [string, string];
    set(section, key, value, { kind: 'flag', name: flag });
  }

  const parsed = configSchema.safeParse(merged);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  const dotted = issue.path.slice(0, 2).join('.');
  const [section, key] = dotted.split('.') as [string, string | undefined];
  const value = key === undefined ? merged[section] : merged[section]?.[key];
  const origin = origins.get(dotted) ?? { kind: 'default' };
  return err(new ConfigError(`config error: ${issue.path.join('.')} = ${JSON.stringify(value)} (${describe(origin)}): ${issue.message}`));
}
