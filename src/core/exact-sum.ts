/**
 * A running sum of doubles that stays exact whatever is added and taken away: the sum is kept as
 * non-overlapping partials (Shewchuk's algorithm, as in Python's `math.fsum`), so a live `sum` or
 * `avg` that took in 1e20 and 1, then lost the 1e20, reads 1 as a fresh sum of its rows does (a
 * plain running total reads 0, and after a thousand edits drifts from a recompute). Each add
 * costs O(partials): one or two for ordinary data.
 *
 * Partials must stay finite (an overflowed partial turns the sum into NaN for good), so values of
 * 2^996 and more are summed apart, scaled down by 2^64 (exact for such values): 1e308 + 1e308 reads
 * Infinity, as a fresh sum does, and reads 1e308 again once one of them is taken away.
 */
export class ExactSum {
  #partials: number[] = [];
  /** The huge values, times 2^-64; usually empty. */
  #huge: number[] = [];

  /** Adds a finite value (take one away by adding its negation). */
  add(value: number): void {
    if (Math.abs(value) < HUGE) addTo(this.#partials, value);
    else addTo(this.#huge, value * DOWN);
  }

  /**
   * The sum: the partials added from the largest down, each below the last one's precision, so
   * it is the exact sum rounded (but for a tie exactly half-way between two doubles).
   */
  get value(): number {
    if (this.#huge.length === 0) return total(this.#partials);
    // Beyond any double, the partials of the whole sum would overflow: the sign says which way.
    const overflow = () =>
      total([...this.#huge, total(this.#partials) * DOWN]) > 0 ? Infinity : -Infinity;
    if (!Number.isFinite(total(this.#huge) * UP)) return overflow();
    const both: number[] = [];
    for (const partial of this.#huge) addTo(both, partial * UP);
    for (const partial of this.#partials) addTo(both, partial);
    const sum = total(both);
    return Number.isFinite(sum) ? sum : overflow();
  }
}

const HUGE = 2 ** 996;
const DOWN = 2 ** -64;
const UP = 2 ** 64;

/** Adds `value` to non-overlapping partials, in place. */
function addTo(partials: number[], value: number): void {
  let x = value;
  let kept = 0;
  for (let i = 0; i < partials.length; i++) {
    let y = partials[i]!;
    if (Math.abs(x) < Math.abs(y)) {
      const larger = y;
      y = x;
      x = larger;
    }
    const high = x + y;
    const low = y - (high - x);
    if (low !== 0) partials[kept++] = low;
    x = high;
  }
  partials.length = kept;
  if (x !== 0) partials.push(x);
}

function total(partials: readonly number[]): number {
  let sum = 0;
  for (let i = partials.length - 1; i >= 0; i--) sum += partials[i]!;
  return sum;
}
