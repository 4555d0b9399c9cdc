// Formatting a time costs far more than rendering a card (`toLocaleTimeString` builds a
// formatter per call), so the formatters are made once and each minute's label is cached.
const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const DAY = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const MINUTE = 60_000;
const labels = new Map<number, string>();
const fullLabels = new Map<number, string>();
/** Enough for a busy room; past it the caches start over (a label is cheap to make again). */
const CACHE_LIMIT = 10_000;

function cached(cache: Map<number, string>, key: number, make: () => string): string {
  let label = cache.get(key);
  if (label === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    label = make();
    cache.set(key, label);
  }
  return label;
}

let today = "";
let todayUntil = 0;
function isToday(date: Date): boolean {
  const now = Date.now();
  if (now >= todayUntil) {
    const midnight = new Date(now);
    midnight.setHours(24, 0, 0, 0);
    todayUntil = midnight.getTime();
    today = new Date(now).toDateString();
    labels.clear(); // "14:05" of yesterday now reads "Dec 1 14:05"
  }
  return date.toDateString() === today;
}

/** "14:05" today, "Dec 1 14:05" another day; cached per minute. */
export function formatTime(timestamp: number): string {
  const minute = Math.floor(timestamp / MINUTE);
  const date = new Date(minute * MINUTE);
  const sameDay = isToday(date);
  return cached(labels, minute, () =>
    sameDay ? TIME.format(date) : `${DAY.format(date)} ${TIME.format(date)}`,
  );
}

/** The full date and time, for a tooltip; cached per second. */
export function formatFullTime(timestamp: number): string {
  const second = Math.floor(timestamp / 1000);
  return cached(fullLabels, second, () => FULL.format(new Date(second * 1000)));
}

/** "1 change", "3 changes"; counts with thousands separators. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;
}
