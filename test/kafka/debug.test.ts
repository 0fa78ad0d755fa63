/**
 * kafka.debug: librdkafka's own lines (its `debug` contexts) reach crowdpulse's log, from a real
 * client against the real broker; without it the clients are quiet.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { kafkaSection } from '../../src/config/sections/kafka.js';
import { consumerSettings, producerSettings } from '../../src/kafka/client-config.js';
import { Producer, type LibrdKafkaError } from '../../src/kafka/rdkafka.js';
import { forwardLibrdkafkaLog } from '../../src/kafka/stats.js';
import { recordingLogger } from '../helpers.js';
import { BOOTSTRAP, brokerUp } from './broker.js';
import { sleep } from './roles.js';

const skip = await brokerUp();
if (skip) console.log(`# skipping the kafka.debug broker test: ${skip}`);

describe('kafka.debug: librdkafka debug contexts', () => {
  it('accepts comma-separated contexts and sets librdkafka `debug` on every client only when given', () => {
    const on = kafkaSection.parse({ debug: 'cgrp,fetch' });
    assert.equal(consumerSettings(on, 'store', 'g').debug, 'cgrp,fetch');
    assert.equal(producerSettings(on, 'store').debug, 'cgrp,fetch');
    const off = kafkaSection.parse({});
    assert.equal(off.debug, '');
    assert.equal('debug' in consumerSettings(off, 'store', 'g'), false);
    assert.equal('debug' in producerSettings(off, 'store'), false);
    for (const bad of ['cgrp; rm -rf /', 'CGRP', 'cgrp,', ',fetch', 'cgrp fetch']) {
      assert.equal(kafkaSection.safeParse({ debug: bad }).success, false, `refuses ${JSON.stringify(bad)}`);
    }
  });

  it('forwards each librdkafka line at info, named by client, with its facility and severity', () => {
    const { log, lines } = recordingLogger();
    const client = new EventEmitter();
    forwardLibrdkafkaLog(client, 'store consumer of t.scored', log);
    client.emit('event.log', { severity: 7, fac: 'HEARTBEAT', message: 'Heartbeat for group "g" generation id 3' });
    assert.deepEqual(lines, ['info Heartbeat for group "g" generation id 3 {"client":"store consumer of t.scored","fac":"HEARTBEAT","severity":7}']);
  });

  it('a real producer with kafka.debug = broker logs its broker connection through it (none without)', { skip }, async () => {
    const linesOf = async (debug: string): Promise<string[]> => {
      const config = kafkaSection.parse({ brokers: BOOTSTRAP, debug });
      const { log, lines } = recordingLogger();
      const producer = new Producer(producerSettings(config, 'debug-test'));
      forwardLibrdkafkaLog(producer, 'debug-test producer', log);
      await new Promise<void>((resolve, reject) =>
        producer.connect({ timeout: 10000 }, (e: LibrdKafkaError | null | undefined) => (e ? reject(new Error(e.message)) : resolve())),
      );
      producer.setPollInterval(10);
      await sleep(1000);
      await new Promise<void>((resolve) => producer.disconnect(5000, () => resolve()));
      return lines;
    };
    const on = await linesOf('broker');
    assert.ok(on.length > 0, 'librdkafka logged its broker contexts');
    assert.ok(
      on.some((l) => /"client":"debug-test producer"/.test(l) && /"fac":"[A-Z]+"/.test(l)),
      `lines carry the client and the facility: ${on.slice(0, 3).join(' | ')}`,
    );
    assert.deepEqual(await linesOf(''), [], 'no debug contexts: no librdkafka lines');
  });
});
