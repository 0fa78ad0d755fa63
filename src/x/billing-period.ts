/**
 * X bills Post consumption per monthly period that starts on the project's cap reset day (UTC).
 * Reset days 29-31 are clamped to the month's last day.
 */
export interface BillingPeriod {
  readonly start: number;
  readonly end: number;
}

function resetInstant(year: number, month: number, resetDay: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(year, month, Math.min(resetDay, last));
}

export function billingPeriod(now: number, resetDay: number): BillingPeriod {
  const d = new Date(now);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth();
  let start = resetInstant(year, month, resetDay);
  if (start > now) {
    month -= 1;
    if (month < 0) {
      month = 11;
      year -= 1;
    }
    start = resetInstant(year, month, resetDay);
  }
  let endMonth = month + 1;
  let endYear = year;
  if (endMonth > 11) {
    endMonth = 0;
    endYear += 1;
  }
  return { start, end: resetInstant(endYear, endMonth, resetDay) };
}
