/**
 * The services the Kafka + InfluxDB topology needs, started with the project's own scripts on
 * ports and directories of the bench's own (so the bench neither disturbs nor measures someone
 * else's broker), and stopped again by the bench when it started them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './child.js';

const exec = promisify(execFile);

export interface Service {
  readonly name: 'kafka' | 'influxdb';
  /** kafka: bootstrap host:port; influxdb: base URL. */
  readonly address: string;
  readonly pid: number | undefined;
  /** Did the bench start it (and so must stop it)? */
  readonly startedByBench: boolean;
  readonly version: string;
}

export interface ServiceOptions {
  readonly kafkaPort: number;
  readonly influxPort: number;
  readonly onLog?: (line: string) => void;
}

const SCRIPTS = { kafka: 'scripts/kafka.sh', influxdb: 'scripts/influxdb.sh' } as const;

function envFor(name: Service['name'], o: ServiceOptions): Record<string, string> {
  return name === 'kafka'
    ? { KAFKA_PORT: String(o.kafkaPort), KAFKA_CONTROLLER_PORT: String(o.kafkaPort + 1), KAFKA_SERVICE_DIR: join(REPO, '.services/bench-kafka') }
    : {
        INFLUXDB_PORT: String(o.influxPort),
        INFLUXDB_RPC_PORT: String(o.influxPort + 2),
        INFLUXDB_SERVICE_DIR: join(REPO, '.services/bench-influxdb'),
        INFLUXDB_BIN_DIR: join(REPO, '.services/influxdb/bin'),
      };
}

function pidOf(name: Service['name']): number | undefined {
  const file = name === 'kafka' ? join(REPO, '.services/bench-kafka/kafka.pid') : join(REPO, '.services/bench-influxdb/influxd.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function scriptsPresent(): { kafka: boolean; influxdb: boolean } {
  return { kafka: existsSync(join(REPO, SCRIPTS.kafka)), influxdb: existsSync(join(REPO, SCRIPTS.influxdb)) };
}

async function script(name: Service['name'], verb: string, o: ServiceOptions, timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await exec('bash', [SCRIPTS[name], verb], {
      cwd: REPO,
      env: { ...process.env, ...envFor(name, o) },
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
    });
    return { ok: true, out: stdout + stderr };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, out: `${x.stdout ?? ''}${x.stderr ?? ''}${x.message}` };
  }
}

/** Starts (or finds running) one service; undefined + reason when it cannot. */
export async function ensureService(name: Service['name'], o: ServiceOptions): Promise<{ service?: Service; problem?: string }> {
  const status = await script(name, 'status', o, 30_000);
  const running = status.ok && /^running/m.test(status.out);
  if (!running) {
    o.onLog?.(`starting ${name} with ${SCRIPTS[name]} up (bench instance)`);
    const up = await script(name, 'up', o, 15 * 60_000);
    if (!up.ok) return { problem: `${SCRIPTS[name]} up failed: ${up.out.trim().split('\n').slice(-4).join(' | ')}` };
  }
  const address = name === 'kafka' ? `127.0.0.1:${o.kafkaPort}` : `http://127.0.0.1:${o.influxPort}`;
  return { service: { name, address, pid: pidOf(name), startedByBench: !running, version: name === 'kafka' ? kafkaVersion() : 'influxd v1.8.10' } };
}

export async function stopService(s: Service, o: ServiceOptions): Promise<void> {
  if (!s.startedByBench) return;
  await script(s.name, 'down', o, 120_000);
}

function kafkaVersion(): string {
  const pom = join(REPO, 'scripts/kafka/pom.xml');
  if (!existsSync(pom)) return 'kafka';
  const m = /<kafka\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'));
  return `Apache Kafka ${m?.[1] ?? '?'} (KRaft, single node)`;
}
