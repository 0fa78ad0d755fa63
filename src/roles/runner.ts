import type { Config } from '../config/schema.js';
import type { PipelineSpec } from '../pipeline/runner.js';
import { runPipeline } from '../pipeline/runner.js';
import type { CountingDeadLetterSink } from '../sinks/dead-letter/counting-dead-letter-sink.js';
import type { TallyDeadLetterSink } from '../sinks/dead-letter/tally-dead-letter-sink.js';
import { registerReadiness } from '../telemetry/health.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { logger } from '../telemetry/log.js';
import { RULES_ADMIN_PATH } from '../x/rules-admin.js';
import { awaitDrain, Closer, onShutdownSignal, startRoleHttp, watchQueues, type PipelineEnd } from './lifecycle.js';

const log = logger('role');

export type RoleName = 'run' | 'ingest' | 'analyze' | 'store';

/** What a role wired: its pipeline and where its refused messages go. */
export interface RoleWiring {
  /** Typed end to end: `pipeline(source).through(…).to(sink, …)`. */
  readonly pipeline: PipelineSpec;
  /** Every refused message of the role, counted by code for the summary. */
  readonly deadLetters: CountingDeadLetterSink;
  /** The letters the sink wrote: those posts are in acked batches but were not delivered. */
  readonly sinkDeadLetters?: TallyDeadLetterSink;
  /** Fields of the "running" log line. */
  readonly describe?: Readonly<Record<string, unknown>>;
  /** Called a few times a second and once at the end (the progress bar). */
  readonly onTick?: (state: RoleProgress) => void;
  /** Called once the pipeline ended, before the components close. */
  readonly onEnd?: () => void;
}

export interface RoleProgress {
  readonly delivered: number;
  readonly deadLetters: number;
  readonly queueDepths: readonly number[];
}

/** How the role's run went, for its summary. */
export interface RoleOutcome {
  /** Items of acked batches, less those the sink dead-lettered: stored, or produced downstream. */
  readonly delivered: number;
  readonly deadLetters: CountingDeadLetterSink;
  /** Messages the source read, where it counts them (each became an item or a dead letter). */
  readonly messagesRead: number | undefined;
  readonly seconds: number;
  /** A signal stopped the role; `end` says whether its drain finished in time. */
  readonly stopped: boolean;
  readonly end: PipelineEnd;
  readonly httpUrl: string | undefined;
}

/** A role is a declaration of what it wires; the runner owns everything around it. */
export interface RoleDefinition<S> {
  readonly role: RoleName;
  readonly config: Config;
  /** Routes on the role's HTTP port besides /metrics, /healthz and /readyz. */
  readonly routes?: readonly RouteHandler[];
  /** After SIGTERM, the longest wait for in-flight batches. */
  readonly drainMs: number;
  /** What must be refused before the port opens (a bad path is one line and an exit). */
  readonly preflight?: (closer: Closer) => Promise<void>;
  /** Opens the components, each registered with `closer` as it opens, and wires them. */
  wire(closer: Closer): Promise<RoleWiring>;
  /** The role's summary, once the pipeline ended and its components are closed. */
  summarize(outcome: RoleOutcome): Promise<S> | S;
}

/**
 * Runs a role: its one HTTP port (metrics, health, readiness, routes), the pipeline with its
 * queue gauges, SIGINT/SIGTERM with a bounded drain, and every component closed in reverse order
 * of opening — also when opening one of them fails.
 */
export async function runRole<S>(definition: RoleDefinition<S>): Promise<S> {
  const closer = new Closer();
  try {
    await definition.preflight?.(closer);
    const http = closer.add(
      'http',
      await startRoleHttp(definition.role, definition.config, definition.routes, [RULES_ADMIN_PATH]),
      (h) => h?.close() ?? Promise.resolve(),
    );
    const wiring = await definition.wire(closer);

    let delivered = 0;
    let stopped = false;
    const started = performance.now();
    const running = runPipeline({
      ...wiring.pipeline,
      ...(wiring.sinkDeadLetters ? { sinkDeadLetters: wiring.sinkDeadLetters } : {}),
      onStored: (_items, durable) => {
        delivered += durable;
      },
    });
    registerReadiness('pipeline', () => true);
    const tick = (): void => wiring.onTick?.({ delivered, deadLetters: wiring.deadLetters.total, queueDepths: running.queues.map((q) => q.depth) });
    const stopWatching = watchQueues(running.queues, tick);
    const stopSignals = onShutdownSignal(() => {
      stopped = true;
      running.stop();
    });
    log.info(`${definition.role} running`, wiring.describe ?? {});
    let end: PipelineEnd;
    try {
      end = await awaitDrain(running, () => stopped, definition.drainMs);
    } finally {
      stopWatching();
      stopSignals();
      tick();
      wiring.onEnd?.();
    }
    const seconds = (performance.now() - started) / 1000;
    // Bounded: a close that hangs (a client waiting on a broker that is gone) must not keep the process up until SIGKILL.
    await closer.closeAll(definition.config.pipeline.closeTimeoutMs);
    log.info(`${definition.role} finished`, { delivered, deadLetters: wiring.deadLetters.total, seconds: seconds.toFixed(1) });
    return await definition.summarize({
      delivered,
      deadLetters: wiring.deadLetters,
      messagesRead: wiring.pipeline.source.messagesRead,
      seconds,
      stopped,
      end,
      httpUrl: http?.url,
    });
  } finally {
    await closer.closeAll(definition.config.pipeline.closeTimeoutMs);
  }
}
