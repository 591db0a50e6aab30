// Shared by the runtime services (each bundle takes in what it imports): both store date-times in PostgreSQL.

/**
 * Strict RFC 3339 date-times (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.5+02:00`) limited to what a PostgreSQL
 * timestamptz stores: years 0001-9999, a day that exists in its month (leap years included), hours 00-23, seconds
 * 00-60 (PostgreSQL takes a leap second as the first second of the next minute), and a UTC offset of Z or ±HH:MM up
 * to ±15:59 (PostgreSQL refuses larger offsets although RFC 3339 allows up to ±23:59). `T` and `Z` may be lower-case.
 */
const SHAPE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Largest UTC offset hour PostgreSQL stores (its limit is just under 16 hours). */
const MAX_OFFSET_HOURS = 15;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Returns why `text` is not such a timestamp, or undefined when it is one. */
export function timestampProblem(text: string): string | undefined {
  const m = SHAPE.exec(text);
  if (!m) return "is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.fraction] with Z or ±HH:MM)";
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1) return "has year 0000; years run from 0001 to 9999";
  if (month < 1 || month > 12) return `has month ${m[2]}; months run from 01 to 12`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `has day ${m[3]}, but ${m[1]}-${m[2]} has ${days} days`;
  if (hour > 23) return `has hour ${m[4]}; hours run from 00 to 23`;
  if (minute > 59) return `has minute ${m[5]}; minutes run from 00 to 59`;
  if (second > 60) return `has second ${m[6]}; seconds run from 00 to 60 (a leap second)`;
  if (m[8] !== undefined) {
    if (Number(m[8]) > MAX_OFFSET_HOURS) return `has UTC offset hour ${m[8]}; offsets beyond ±15:59 cannot be stored`;
    if (Number(m[9]) > 59) return `has UTC offset minute ${m[9]}; minutes run from 00 to 59`;
  }
  return undefined;
}

/** A timestamp as `timestampProblem` accepts it, read: milliseconds since the epoch, and whether its second was 60. */
export interface Timestamp {
  /** A second 60 counts as the first second of the next minute, as PostgreSQL takes it. */
  readonly ms: number;
  readonly leapSecond: boolean;
}

/** Reads a timestamp `timestampProblem` accepts; undefined for any other text. Years below 100 are read as written. */
export function parseTimestamp(text: string): Timestamp | undefined {
  if (timestampProblem(text) !== undefined) return undefined;
  const m = SHAPE.exec(text) as RegExpExecArray;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const sign = /-\d{2}:\d{2}$/.test(text) ? -1 : 1;
  const offset = m[8] === undefined ? 0 : sign * (Number(m[8]) * 60 + Number(m[9]));
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years below 100 as written
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute - offset, Math.min(second, 59), Math.round(Number(m[7] ?? 0) * 1000));
  return { ms: d.getTime() + (second === 60 ? 1000 : 0), leapSecond: second === 60 };
}
