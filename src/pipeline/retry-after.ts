/**
 * `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3) → milliseconds from now; undefined
 * when absent or unreadable. One reading for every HTTP client here (the InfluxDB sink, the webhook).
 */
export function parseRetryAfter(value: string | string[] | undefined | null, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null || v.trim() === '') return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
