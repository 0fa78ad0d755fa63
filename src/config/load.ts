import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { err, ok, type Result } from '../contract/result.js';
import { CrowdpulseError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

/** A configuration problem, already phrased as the one line a user sees. */
export class ConfigError extends CrowdpulseError<'CP_CONFIG_INVALID'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CP_CONFIG_INVALID', message, options);
  }
}

type Origin =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flag'; readonly name: string };
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

/**
 * CROWDPULSE_* environment variables that are read directly and are not config keys; every other
 * CROWDPULSE_* name must be a config key (a typo is refused, not ignored). Secrets stay out of the
 * config on purpose (see sections/x.ts).
 */
export const NON_CONFIG_ENV: ReadonlyMap<string, string> = new Map([
  ['CROWDPULSE_X_BEARER_TOKEN', 'the X bearer token (src/x/credentials.ts)'],
  ['CROWDPULSE_X_ADMIN_TOKEN', 'the rules admin endpoint token (src/x/rules-admin.ts)'],
  ['CROWDPULSE_HTTP_TOKEN', 'the access token of the HTTP port (src/telemetry/http-access.ts)'],
  ['CROWDPULSE_DATA', 'the labelled data directory of crowdpulse eval --card and the model tests (src/commands/eval.ts, models/training/data.py)'],
  ['CROWDPULSE_PYTHON', 'the Python of the model parity tests (test/model/support.ts)'],
]);
/** Prefix of variables that only tests read (ports of test servers, outage lengths, ...). */
export const TEST_ENV_PREFIX = 'CROWDPULSE_TEST_';

/** Keys whose values an error line never prints (the rule `crowdpulse config` applies too). */
const SECRET_KEY = /token|password|secret/i;
const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);
/** Longest value an error line shows before cutting it (a value may be a whole file). */
const SHOWN_VALUE_CHARS = 120;

/** model.maxBatch → CROWDPULSE_MODEL_MAX_BATCH */
export function envNameOf(section: string, key: string): string {
  const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return `${ENV_PREFIX}${snake(section)}_${snake(key)}`;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> {
  let current: z.ZodType = schema;
  while (!(current instanceof z.ZodObject)) {
    const inner = (current as unknown as { _zod: { def: { innerType?: z.ZodType } } })._zod.def.innerType;
    if (!inner) throw new CrowdpulseError('CP_INTERNAL', 'config section is not an object schema');
    current = inner;
  }
  return current.shape;
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

/** Levenshtein distance, for "did you mean": names are short, so the plain table is enough. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The first CROWDPULSE_* variable that is neither a config key nor listed as read elsewhere, as an error. */
function unknownEnvVariable(env: NodeJS.ProcessEnv): ConfigError | undefined {
  const known = [...configKeys().map((k) => k.env), ...NON_CONFIG_ENV.keys()];
  const knownSet = new Set(known);
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || knownSet.has(name) || name.startsWith(TEST_ENV_PREFIX)) continue;
    let closest = known[0] ?? '';
    let best = Infinity;
    for (const candidate of known) {
      const d = editDistance(name.slice(0, SHOWN_VALUE_CHARS), candidate);
      if (d < best) [best, closest] = [d, candidate];
    }
    // The value is not shown: a misspelt token variable still holds the token. An odd name is quoted (one line).
    const shownName = /^\w+$/.test(name) ? name : JSON.stringify(name.slice(0, SHOWN_VALUE_CHARS));
    return new ConfigError(
      `config error: unknown environment variable ${shownName} (not a config key); did you mean ${closest}? (crowdpulse config lists every variable)`,
    );
  }
  return undefined;
}

/** A value as an error line shows it: secrets never, long values cut, always on one line. */
function shownValue(section: string, key: string | undefined, value: unknown): string {
  if (key !== undefined && isSecretKey(key)) return '<redacted>';
  if (key === undefined && value !== null && typeof value === 'object') {
    // A whole section: its secret keys are redacted too.
    value = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretKey(k) ? '<redacted>' : v]));
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length > SHOWN_VALUE_CHARS ? `${json.slice(0, SHOWN_VALUE_CHARS)}… (${json.length} characters)` : json;
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
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    return err(new ConfigError(`config error: config file ${file} must hold a mapping of sections, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`));
  const known = new Map(configKeys().map((k) => [`${k.section}.${k.key}`, k]));
  const sections = new Set(configKeys().map((k) => k.section));
  for (const [section, values] of Object.entries(parsed as Record<string, unknown>)) {
    if (!sections.has(section))
      return err(new ConfigError(`config error: unknown section "${section}" in config file ${file}; known sections: ${[...sections].join(', ')}`));
    if (typeof values !== 'object' || values === null || Array.isArray(values))
      return err(new ConfigError(`config error: section "${section}" in config file ${file} must be a mapping of keys`));
    for (const key of Object.keys(values)) {
      if (!known.has(`${section}.${key}`)) return err(new ConfigError(`config error: unknown key "${section}.${key}" in config file ${file}`));
    }
  }
  return ok(parsed as Layer);
}

/**
 * Defaults < config file < CROWDPULSE_* environment < flags, validated once. The first invalid value
 * becomes one error line naming the key, the value (never a secret's), where it came from, and the
 * expected form. A CROWDPULSE_* variable that is no config key (and not in NON_CONFIG_ENV) is refused.
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
  const unknownEnv = unknownEnvVariable(env);
  if (unknownEnv) return err(unknownEnv);
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
  return err(new ConfigError(`config error: ${issue.path.join('.')} = ${shownValue(section, key, value)} (${describe(origin)}): ${issue.message}`));
}
