/**
 * A running sum of doubles that stays exact whatever is added and taken away: the sum is kept as
 * non-overlapping partials (Shewchuk's algorithm, as in Python's `math.fsum`), so a live `sum` or
 * `avg` that took in 1e20 and 1, then lost the 1e20, reads 1 as a fresh sum of its rows does (a
 * plain running total reads 0, and after a thousand edits drifts from a recompute). Each add
 * costs O(partials): one or two for ordinary data.
 */
export class ExactSum {
  #partials: number[] = [];

  add(value: number): void {
    const partials = this.#partials;
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

  /**
   * The sum: the partials added from the largest down, each below the last one's precision, so
   * it is the exact sum rounded (but for a tie exactly half-way between two doubles).
   */
  get value(): number {
    const partials = this.#partials;
    let total = 0;
    for (let i = partials.length - 1; i >= 0; i--) total += partials[i]!;
    return total;
  }
}
