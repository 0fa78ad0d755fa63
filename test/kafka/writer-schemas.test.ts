/**
 * Writer schemas of registry-framed messages during a registry outage: a batch of many distinct
 * schema ids waits one retry budget (kafka.schemaRegistryRetryMs), not one per id — which, with
 * enough ids, outlasted the consumer's poll interval. A real HTTP server answers 503 and counts.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SchemaRegistryClient } from '../../src/kafka/schema-registry.js';
import { WriterSchemas } from '../../src/kafka/writer-schemas.js';

test('#16.2 a registry outage costs a batch of many schema ids one retry budget: the first id is retried, the others are unavailable at once', async (t) => {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"down for maintenance"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = new SchemaRegistryClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    username: '',
    password: '',
    timeoutMs: 1000,
    retryMs: 300,
  });
  t.after(() => client.close());
  const schemas = new WriterSchemas(client, 16);
  const ids = Array.from({ length: 40 }, (_, i) => 1000 + i);
  await schemas.load(ids);
  assert.ok(asked.length >= 1);
  assert.deepEqual(new Set(asked), new Set(['/schemas/ids/1000']), 'only the first id is asked for, however often it is retried');
  for (const id of ids) {
    const entry = schemas.get(id);
    assert.ok(entry && !entry.ok, `id ${id}`);
    assert.equal(entry.code, 'schema_unavailable');
  }
  // Nothing of the outage is cached: the next batch asks again.
  asked.length = 0;
  await schemas.load([1001]);
  assert.deepEqual(new Set(asked), new Set(['/schemas/ids/1001']));
});
