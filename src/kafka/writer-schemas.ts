/**
 * Writer schemas of registry-framed messages, by schema id: fetched from the registry before a
 * consumed batch is decoded (`load`), parsed once, kept in a bounded least-recently-used cache.
 * A failure is remembered until the next `load` only, so the next batch asks again.
 */
import avro from 'avsc';
import type { RejectionCode } from '../contract/index.js';
import { logger } from '../telemetry/log.js';
import type { SchemaRegistryClient } from './schema-registry.js';

const log = logger('schema-registry');

export type WriterSchema = { readonly ok: true; readonly type: avro.Type } | { readonly ok: false; readonly code: RejectionCode; readonly reason: string };

/** A bounded Map that forgets its least recently used entry. */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly capacity: number) {}
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value as K);
  }
  get size(): number {
    return this.#map.size;
  }
}

export class WriterSchemas {
  readonly #cache: LruMap<number, WriterSchema>;
  /** Failures and lookups of the last `load`, so a batch with more ids than the cache still decodes. */
  #batch = new Map<number, WriterSchema>();

  constructor(
    readonly client: SchemaRegistryClient,
    capacity: number,
  ) {
    this.#cache = new LruMap(capacity);
  }

  /**
   * Fetches the ids not cached yet; never throws. The registry is retried while it does not answer, up
   * to kafka.schemaRegistryRetryMs once per batch: after one id found it unreachable, the batch's other
   * uncached ids are unavailable too without asking again, so a batch of many distinct ids during an
   * outage waits one retry budget, not one per id (which could outlast the consumer's poll interval).
   */
  async load(ids: Iterable<number>, signal?: AbortSignal): Promise<void> {
    this.#batch = new Map();
    let outage: string | undefined;
    for (const id of new Set(ids)) {
      const cached = this.#cache.get(id);
      if (cached) {
        this.#batch.set(id, cached);
        continue;
      }
      if (signal?.aborted) return;
      if (outage !== undefined) {
        this.#batch.set(id, { ok: false, code: 'schema_unavailable', reason: `schema id ${id} not asked for: ${outage}` });
        continue;
      }
      const found = await this.client.schemaById(id, signal);
      if (!found.ok && found.kind === 'unreachable') outage = found.reason;
      let entry: WriterSchema;
      if (!found.ok) {
        entry = { ok: false, code: found.kind === 'unreachable' ? 'schema_unavailable' : 'unknown_version', reason: found.reason };
        log.warn('writer schema not available; its messages go to the dead-letter topic', { id, reason: found.reason });
      } else if (found.schemaType.toUpperCase() !== 'AVRO') {
        entry = { ok: false, code: 'unknown_version', reason: `schema id ${id} is a ${found.schemaType} schema, not Avro` };
      } else {
        try {
          entry = { ok: true, type: avro.Type.forSchema(JSON.parse(found.schema) as avro.Schema) };
        } catch (e) {
          entry = { ok: false, code: 'unknown_version', reason: `schema id ${id} is no Avro schema avsc can read: ${(e as Error).message}` };
        }
      }
      this.#batch.set(id, entry);
      // A schema id's schema never changes: keep what was found, and what can never parse.
      if (entry.ok || found.ok) this.#cache.set(id, entry);
    }
  }

  /** The writer schema of `id` as the last `load` found it (or cached earlier); undefined when never loaded. */
  get(id: number): WriterSchema | undefined {
    return this.#batch.get(id) ?? this.#cache.get(id);
  }

  get where(): string {
    return this.client.where;
  }
}
