import type { AlertNotifier } from '../../alerts/webhook.js';
import { CONTRACT_LIMITS, type ScoredPost } from '../../contract/index.js';
import type { Sink } from '../../pipeline/component.js';
import type { ShiftWriter } from '../../pipeline/shift-writer.js';
import { UNSUPPORTED_FLAG, type UnsupportedLanguages } from '../../query/languages.js';
import type { ShiftEvent } from '../../query/shift-event.js';
import type { ShiftDetector } from '../../shifts/detector.js';
import { logger } from '../../telemetry/log.js';
import { sentimentShiftsTotal } from '../../telemetry/metrics.js';

const log = logger('shifts');

export interface ShiftTapOptions {
  readonly detector: ShiftDetector;
  readonly writer: ShiftWriter;
  readonly notifier: AlertNotifier<ShiftEvent>;
  /** Event-time slack: buckets are tested once the newest post is this far past their end. */
  readonly latenessMs: number;
  /** Longest wait for queued webhook alerts on close. */
  readonly drainMs: number;
  /** Posts in an unsupported language (flagged): left out of detection (the default), as from every mean, or counted. */
  readonly unsupportedLanguages?: UnsupportedLanguages;
}

/**
 * The store stage with shift detection: after `inner` made a batch durable (or, with no inner, at
 * once: a detection-only deployment), its posts go to the detector, the shifts it finds are
 * written to the store (before the batch is acked, so a crash replays the batch and the upsert
 * writes the same shifts again), counted in crowdpulse_sentiment_shifts_total and handed to the
 * webhook, which never holds the pipeline up. Retweets are left out: they repeat an opinion, they
 * are not a new one (src/query/amplification.ts). So are posts in a language the model does not
 * support (src/query/languages.ts), unless `unsupportedLanguages` is include: their scores say
 * little, and a burst of them would move a topic's mean and volume as no change in mood did. Time is event time: the watermark is the newest
 * created_at seen less the lateness, so a replay of old posts detects what a live stream would.
 */
export class ShiftTapSink implements Sink<ScoredPost> {
  readonly name: string;
  readonly stage?: Sink<ScoredPost>['stage'];
  #newest = Number.NEGATIVE_INFINITY;
  readonly #excludeUnsupported: boolean;

  constructor(
    private readonly inner: Sink<ScoredPost> | undefined,
    private readonly o: ShiftTapOptions,
  ) {
    this.name = inner?.name ?? 'shifts';
    this.#excludeUnsupported = (o.unsupportedLanguages ?? 'exclude') === 'exclude';
    if (inner?.stage !== undefined) this.stage = inner.stage;
  }

  async write(items: readonly ScoredPost[]): Promise<void> {
    await this.inner?.write(items);
    const { detector } = this.o;
    const shifts: ShiftEvent[] = [];
    for (const post of items) {
      if (post.refKind === 'retweeted') continue;
      const at = Date.parse(post.createdAt);
      // The contract keeps created_at within maxFutureSkewMs of ingestion; this bound holds the
      // watermark there even for a post stored before that check (one post dated 9999 would
      // otherwise close every topic's buckets up to then).
      if (at > this.#newest && at <= Date.now() + CONTRACT_LIMITS.maxFutureSkewMs) {
        this.#newest = at;
        // Event time moves post by post, as in a live stream: a batch that spans hours of a replay
        // (the sink's batches grow when the store falls behind) closes its buckets as it goes.
        // Advanced once per batch, the detector counted the posts more than its open buckets
        // (maxOpenBuckets) past the last watermark as future and dropped them: a volume drop that
        // was not there, depending on how large the batches happened to be.
        shifts.push(...detector.advance(at - this.o.latenessMs));
      }
      if (this.#excludeUnsupported && post.flags.includes(UNSUPPORTED_FLAG)) continue;
      for (const topic of post.topics) detector.observe(topic, at, post.score, post.id);
    }
    if (shifts.length === 0) return;
    await this.o.writer.write(shifts);
    for (const shift of shifts) {
      sentimentShiftsTotal.inc({ topic: shift.topic, direction: shift.direction, kind: shift.kind });
      log.info('sentiment shift', {
        topic: shift.topic,
        kind: shift.kind,
        direction: shift.direction,
        changeAt: shift.changeAt,
        before: shift.before.meanScore.toFixed(3),
        after: shift.after.meanScore.toFixed(3),
        volumeChange: Number.isFinite(shift.volumeChange) ? shift.volumeChange.toFixed(2) : 'from none',
      });
      this.o.notifier.notify(shift);
    }
  }

  async close(): Promise<void> {
    try {
      await this.inner?.close();
    } finally {
      await this.o.notifier.close(this.o.drainMs);
      await this.o.writer.close();
    }
  }
}
