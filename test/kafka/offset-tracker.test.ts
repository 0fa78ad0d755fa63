import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PartitionTracker } from '../../src/kafka/offset-tracker.js';

describe('PartitionTracker', () => {
  it('commits only up to the highest contiguous acked offset when acks arrive out of order', () => {
    const t = new PartitionTracker('raw', 0);
    for (const o of [10, 11, 12, 13]) t.track(o);
    t.ack(12);
    assert.equal(t.pendingCommit, undefined, 'a gap at 10 holds the commit back');
    t.ack(10);
    assert.equal(t.pendingCommit, 11);
    t.ack(11);
    assert.equal(t.pendingCommit, 13, '10, 11, 12 done → next to read is 13');
    assert.equal(t.inFlight, 1);
    t.ack(13);
    assert.equal(t.pendingCommit, 14);
    assert.equal(t.inFlight, 0);
  });

  it('skips offsets that were never handed out (compaction, control records)', () => {
    const t = new PartitionTracker('raw', 1);
    t.track(5);
    t.track(9);
    t.ack(9);
    assert.equal(t.pendingCommit, undefined);
    t.ack(5);
    assert.equal(t.pendingCommit, 10);
  });

  it('reports nothing to commit once the broker confirmed the commit point', () => {
    const t = new PartitionTracker('raw', 2);
    t.track(0);
    t.ack(0);
    assert.equal(t.pendingCommit, 1);
    t.committed = 1;
    assert.equal(t.pendingCommit, undefined);
  });

  it('refuses offsets out of order', () => {
    const t = new PartitionTracker('raw', 3);
    t.track(4);
    assert.throws(() => t.track(3), RangeError);
  });

  it('stays correct across compaction of a long prefix', () => {
    const t = new PartitionTracker('raw', 4);
    for (let o = 0; o < 5000; o++) t.track(o);
    for (let o = 4999; o >= 1; o--) t.ack(o);
    assert.equal(t.pendingCommit, undefined);
    t.ack(0);
    assert.equal(t.pendingCommit, 5000);
    for (let o = 5000; o < 7000; o++) t.track(o);
    for (let o = 5000; o < 7000; o++) t.ack(o);
    assert.equal(t.pendingCommit, 7000);
    assert.equal(t.inFlight, 0);
  });
});
