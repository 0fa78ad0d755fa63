import type { InfluxdbConfig } from '../../config/sections/influxdb.js';
import { CrowdpulseError, type ErrorCode } from '../../errors.js';
import { endpointOf, InfluxHttp } from './transport.js';

/**
 * Writes a few events (coverage, shifts) as line protocol to a measurement of their own, one
 * request per call on a connection of its own; a refused or failed write throws `code` (the
 * caller keeps the events or fails the batch).
 */
export class InfluxEventWriter<T> {
  readonly #http: InfluxHttp;

  constructor(
    c: InfluxdbConfig,
    private readonly encode: (events: readonly T[]) => string,
    private readonly code: ErrorCode,
  ) {
    this.#http = new InfluxHttp(endpointOf(c), 1);
  }

  async write(events: readonly T[]): Promise<void> {
    if (events.length === 0) return;
    const outcome = await this.#http.write(Buffer.from(this.encode(events), 'utf8'), false);
    if (outcome.kind === 'ok') return;
    throw new CrowdpulseError(this.code, outcome.kind === 'http' ? `HTTP ${outcome.status}: ${outcome.message}` : `${outcome.code}: ${outcome.message}`);
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
