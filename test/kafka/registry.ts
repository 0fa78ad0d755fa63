/**
 * Test helpers: the real Schema Registry (Apicurio's Confluent-compatible API, started through
 * scripts/schema-registry.sh against the broker of broker.ts) and the standard registry consumer
 * (confluent-kafka's AvroDeserializer, scripts/schema-registry/avro-consumer.py, in the venv of
 * scripts/registry-consumer-venv.sh).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../helpers.js';
import { BOOTSTRAP, has } from './broker.js';

const run = promisify(execFile);
const SCRIPT = `${ROOT}scripts/schema-registry.sh`;
const VENV_SCRIPT = `${ROOT}scripts/registry-consumer-venv.sh`;
const CONSUMER = `${ROOT}scripts/schema-registry/avro-consumer.py`;
export const REGISTRY_URL = `http://127.0.0.1:${process.env.SCHEMA_REGISTRY_PORT ?? '18081'}/apis/ccompat/v7`;

/**
 * Starts the registry (idempotent; the broker must be up) and installs the standard consumer's venv
 * (a no-op when up to date). Returns the consumer's python. On a dev machine without Java, Maven or
 * Python it returns a skip message instead; in CI (CI=true) anything that cannot start is a failure (throws).
 */
export async function registryUp(): Promise<{ python: string } | { skip: string }> {
  if (process.env.CI !== 'true' && (!has('java') || !has('mvn') || !has('python3'))) {
    return {
      skip: 'Schema Registry tests need java >= 17, maven and python3, then: bash scripts/kafka.sh up && bash scripts/schema-registry.sh up && bash scripts/registry-consumer-venv.sh install',
    };
  }
  await run('bash', [SCRIPT, 'up'], { timeout: 300_000 });
  await run('bash', [VENV_SCRIPT, 'install'], { timeout: 600_000 });
  const { stdout } = await run('bash', [VENV_SCRIPT, 'python'], { timeout: 10_000 });
  return { python: stdout.trim() };
}

/** One record as the standard consumer printed it. */
export interface StandardRecord {
  readonly key: string;
  readonly schema_id: number;
  readonly value: Record<string, unknown>;
}

/**
 * Reads `count` records of `topic` from the beginning with confluent-kafka's AvroDeserializer and
 * SchemaRegistryClient (a subprocess). Rejects with its stderr when it could not decode a record or
 * read them all in time.
 */
export async function standardConsume(python: string, topic: string, count: number, timeoutS = 60): Promise<StandardRecord[]> {
  const args = [CONSUMER, '--bootstrap', BOOTSTRAP, '--registry', REGISTRY_URL, '--topic', topic, '--count', String(count), '--timeout', String(timeoutS)];
  try {
    const { stdout } = await run(python, args, { timeout: (timeoutS + 30) * 1000, maxBuffer: 64 << 20 });
    return stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as StandardRecord);
  } catch (e) {
    const { code, stderr, stdout } = e as { code?: number; stderr?: string; stdout?: string };
    throw new Error(`standard consumer exited ${code}: ${stderr?.slice(-2000)} (read ${stdout?.split('\n').filter(Boolean).length ?? 0} records)`, {
      cause: e,
    });
  }
}
