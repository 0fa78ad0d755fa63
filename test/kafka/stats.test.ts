import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { KafkaHealthLog, parseStats } from '../../src/kafka/stats.js';
import { recordingLogger } from '../helpers.js';

/** librdkafka statistics with one bootstrap placeholder (nodeid -1) and the real broker in `state`. */
const statsJson = (state: string, cgrp?: { state: string; join_state: string }): string =>
  JSON.stringify({
    brokers: {
      '127.0.0.1:19092/bootstrap': { name: '127.0.0.1:19092/bootstrap', nodeid: -1, state: 'INIT' },
      '127.0.0.1:19092/1': { name: '127.0.0.1:19092/1', nodeid: 1, state },
    },
    ...(cgrp ? { cgrp } : {}),
  });

const steady = { state: 'up', join_state: 'steady' };
const rejoining = { state: 'up', join_state: 'wait-join' };

describe('Kafka client health from librdkafka statistics', () => {
  it('a broker counts as up only when a real node (not the bootstrap placeholder) is UP; every broker state is kept for logs', () => {
    const up = parseStats(statsJson('UP'));
    assert.equal(up?.brokerUp, true);
    assert.equal(up?.brokerStates, '127.0.0.1:19092/bootstrap=INIT 127.0.0.1:19092/1=UP');
    assert.equal(parseStats(statsJson('CONNECT'))?.brokerUp, false);
    assert.equal(parseStats('{not json'), undefined);
  });

  it("a consumer's group coordinator counts as up only when librdkafka's GroupCoordinator broker is UP; unknown without one", () => {
    const withCoordinator = (state: string): string =>
      JSON.stringify({
        brokers: {
          '127.0.0.1:19092/1': { name: '127.0.0.1:19092/1', nodeid: 1, state: 'UP' },
          GroupCoordinator: { name: 'GroupCoordinator', nodeid: -1, state },
        },
      });
    assert.equal(parseStats(withCoordinator('UP'))?.coordinatorUp, true);
    assert.equal(parseStats(withCoordinator('TRY_CONNECT'))?.coordinatorUp, false);
    assert.equal(parseStats(withCoordinator('DOWN'))?.coordinatorUp, false);
    assert.equal(parseStats(statsJson('UP'))?.coordinatorUp, undefined, 'a producer (or a consumer before it found one) names none');
  });

  it('logs each change of broker reachability and group membership once, with the broker states, and nothing while steady', () => {
    const { log, lines } = recordingLogger();
    const health = new KafkaHealthLog('analyze consumer of t.raw', log, true);
    const feed = (state: string, cgrp = steady): void => health.update(parseStats(statsJson(state, cgrp))!);
    feed('UP');
    feed('UP');
    assert.equal(lines.length, 0, 'the first report and a steady state log nothing');
    feed('DOWN', rejoining);
    feed('CONNECT', rejoining);
    feed('UP', rejoining);
    feed('UP');
    feed('UP');
    assert.deepEqual(
      lines.map((l) => l.split(' {')[0]),
      [
        'warn no broker reachable (librdkafka reconnects by itself)',
        'warn consumer group membership lost (rejoining)',
        'info broker reachable again',
        'info consumer group joined again',
      ],
    );
    assert.match(lines[0]!, /"client":"analyze consumer of t.raw","brokers":"[^"]*127.0.0.1:19092\/1=DOWN"/);
  });

  it('a producer logs broker changes only (it has no group)', () => {
    const { log, lines } = recordingLogger();
    const health = new KafkaHealthLog('ingest producer', log, false);
    for (const state of ['UP', 'DOWN', 'UP']) health.update(parseStats(statsJson(state))!);
    assert.deepEqual(
      lines.map((l) => l.split(' {')[0]),
      ['warn no broker reachable (librdkafka reconnects by itself)', 'info broker reachable again'],
    );
  });
});
