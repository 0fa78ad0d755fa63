/**
 * Why a message was refused. `code` is stable (metrics label, dead-letter header); `reason` is for humans.
 * Every code is listed here, in one place.
 */
export const REJECTION_CODES = [
  'invalid_utf8',
  'invalid_json',
  'invalid_shape',
  'empty_text',
  'oversized',
  'invalid_topic',
  'created_at_out_of_range',
  'unknown_version',
  'decode_failed',
  /** A registry-framed Kafka message whose writer schema could not be fetched (the registry did not answer in time). */
  'schema_unavailable',
  'stream_error_payload',
  'sink_rejected',
  'inference_failed',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface Rejection {
  readonly code: RejectionCode;
  readonly reason: string;
}

export const rejection = (code: RejectionCode, reason: string): Rejection => ({ code, reason });
