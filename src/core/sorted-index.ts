import { compareIds, compareKeys } from "./compare.js";

/** Entries per chunk after a bulk load or a split. */
const DEFAULT_CHUNK_SIZE = 128;

interface Chunk<T> {
  keys: unknown[];
  rows: T[];
}

/**
 * A sorted list of rows, kept in chunks of a few hundred (a one-level B-tree).
 *
 * Rows are ordered by (key in `direction`, then id). Insert and remove cost a binary search over
 * the chunks, a binary search in one chunk and a splice of at most `2 * chunkSize` slots, so a write to
 * a live query costs O(log n) whatever the size of its result, where a flat sorted array would
 * move half the result on every write. The first rows (what `limit` shows) sit in the first chunk.
 */
export class SortedIndex<T extends { id: string }> {
  #chunks: Chunk<T>[] = [];
  /**
   * The key of each chunk's last row, in one flat array: finding a row's chunk probes this array
   * rather than a chunk object and its keys per step (three loads from around the heap, each a
   * likely cache miss); a row is read only when its key ties.
   */
  #lastKeys: unknown[] = [];
  #size = 0;
  /**
   * A Fenwick tree over the chunk sizes (1-based), for positions in O(log n): the k-th row of a
   * window, the position of a row far down the result. Rebuilt lazily after a chunk is added or
   * removed (once per few hundred inserts); between rebuilds kept by each insert and remove.
   */
  #tree: number[] = [];
  #treeValid = false;
  readonly #sign: number;
  readonly #chunkSize: number;

  /** `chunkSize` is a tuning knob; tests make it tiny to exercise splits with few rows. */
  constructor(descending: boolean, chunkSize = DEFAULT_CHUNK_SIZE) {
    this.#sign = descending ? -1 : 1;
    this.#chunkSize = chunkSize;
  }

  get size(): number {
    return this.#size;
  }

  /** Replaces the contents with `entries`, which must be sorted already. */
  load(keys: unknown[], rows: T[]): void {
    this.#chunks = [];
    this.#lastKeys = [];
    const size = this.#chunkSize;
    for (let start = 0; start < rows.length; start += size) {
      // Fresh arrays filled by push: a slice of a large preallocated array (`new Array(n)`)
      // can keep slow dictionary elements, which makes every later splice many times slower.
      const chunk: Chunk<T> = { keys: [], rows: [] };
      const end = Math.min(start + size, rows.length);
      for (let i = start; i < end; i++) {
        chunk.keys.push(keys[i]);
        chunk.rows.push(rows[i]!);
      }
      this.#chunks.push(chunk);
      this.#lastKeys.push(keys[end - 1]);
    }
    this.#size = rows.length;
    this.#treeValid = false;
  }

  /** Compares (key, id) pairs in this index's order. */
  compare(keyA: unknown, idA: string, keyB: unknown, idB: string): number {
    return this.#compareKeys(keyA, keyB) || compareIds(idA, idB);
  }

  /** Compares two keys in this index's direction (0 on a tie, which the ids then break). */
  #compareKeys(keyA: unknown, keyB: unknown): number {
    // Numbers (timestamps, line numbers) are the common key: compare them without compareKeys'
    // type ranking. NaN (neither below, above nor equal) falls through to compareKeys, which
    // orders it consistently; treating it as equal to everything would lose rows.
    const order =
      typeof keyA === "number" && typeof keyB === "number"
        ? keyA < keyB
          ? -1
          : keyA > keyB
            ? 1
            : keyA === keyB
              ? 0
              : compareKeys(keyA, keyB)
        : compareKeys(keyA, keyB);
    return order === 0 ? 0 : this.#sign * order;
  }

  /**
   * Compares entry `i` of `chunk` with (key, id). Its row is read only when the keys tie: a row
   * is an object elsewhere in the heap, and loading one per probe of a binary search (a cache
   * miss each) cost more than the search itself.
   */
  #compareAt(chunk: Chunk<T>, i: number, key: unknown, id: string): number {
    return this.#compareKeys(chunk.keys[i], key) || compareIds(chunk.rows[i]!.id, id);
  }

  /**
   * Inserts a row and returns its position, or `cap` if the position is `cap` or more
   * (so a query with a limit never counts past it).
   */
  insert(key: unknown, row: T, cap: number): number {
    const chunks = this.#chunks;
    this.#size++;
    if (chunks.length === 0) {
      chunks.push({ keys: [key], rows: [row] });
      this.#lastKeys.push(key);
      this.#treeValid = false;
      return 0;
    }
    const c = this.#chunkFor(key, row.id);
    const chunk = chunks[c]!;
    const at = this.#lowerBound(chunk, key, row.id);
    chunk.keys.splice(at, 0, key);
    chunk.rows.splice(at, 0, row);
    if (at === chunk.rows.length - 1) this.#lastKeys[c] = key;
    const size = this.#chunkSize;
    if (chunk.rows.length > 2 * size) {
      const next = { keys: chunk.keys.splice(size), rows: chunk.rows.splice(size) };
      chunks.splice(c + 1, 0, next);
      this.#lastKeys.splice(c + 1, 0, next.keys[next.keys.length - 1]);
      this.#lastKeys[c] = chunk.keys[size - 1];
      this.#treeValid = false;
    } else if (this.#treeValid) this.#addToTree(c, 1);
    return this.#positionOf(c, at, cap);
  }

  /**
   * Replaces the row (oldKey, row.id) by (newKey, row) in its slot when the new key still sorts
   * there, which is the common update (the sort key did not change, or not past a neighbour):
   * no splice, no shifting. Returns its position (capped like `insert`), -1 if the row is absent,
   * or -2 if it must move (then nothing changed: remove and insert it).
   */
  #replace(oldKey: unknown, newKey: unknown, row: T, cap: number): number {
    const chunks = this.#chunks;
    if (chunks.length === 0) return -1;
    const id = row.id;
    const c = this.#chunkFor(oldKey, id);
    const chunk = chunks[c]!;
    const at = this.#lowerBound(chunk, oldKey, id);
    const { keys, rows } = chunk;
    if (at >= rows.length || rows[at]!.id !== id) return -1;
    const before = at > 0 ? chunk : c > 0 ? chunks[c - 1]! : undefined;
    if (before) {
      const i = at > 0 ? at - 1 : before.rows.length - 1;
      if (this.#compareAt(before, i, newKey, id) > 0) return -2;
    }
    const after = at + 1 < rows.length ? chunk : chunks[c + 1];
    if (after) {
      const i = at + 1 < rows.length ? at + 1 : 0;
      if (this.#compareAt(after, i, newKey, id) < 0) return -2;
    }
    keys[at] = newKey;
    rows[at] = row;
    if (at === rows.length - 1) this.#lastKeys[c] = newKey;
    return this.#positionOf(c, at, cap);
  }

  /**
   * Moves the row (oldKey, row.id) to (newKey, row): in its slot when the key is unchanged and
   * it still sorts there, else by a remove and an insert (a changed key almost always moves).
   * Returns its new position (capped like `insert`) and leaves its former one in `movedFrom`
   * (-1 if it was absent): two numbers without an allocation per write.
   */
  update(oldKey: unknown, newKey: unknown, row: T, cap: number): number {
    if (this.#compareKeys(oldKey, newKey) === 0) {
      const at = this.#replace(oldKey, newKey, row, cap);
      this.movedFrom = at === -2 ? this.remove(oldKey, row.id, cap) : at;
      return at >= 0 ? at : this.insert(newKey, row, cap);
    }
    this.movedFrom = this.remove(oldKey, row.id, cap);
    return this.insert(newKey, row, cap);
  }

  /** The former position of the row the last `update` moved (-1: it was absent). */
  movedFrom = -1;

  /** Removes the row (key, id); returns its former position (capped like `insert`), or -1. */
  remove(key: unknown, id: string, cap: number): number {
    const chunks = this.#chunks;
    if (chunks.length === 0) return -1;
    const c = this.#chunkFor(key, id);
    const chunk = chunks[c]!;
    const at = this.#lowerBound(chunk, key, id);
    if (at >= chunk.rows.length || chunk.rows[at]!.id !== id) return -1;
    const position = this.#positionOf(c, at, cap);
    chunk.keys.splice(at, 1);
    chunk.rows.splice(at, 1);
    if (chunk.rows.length === 0) {
      chunks.splice(c, 1);
      this.#lastKeys.splice(c, 1);
      this.#treeValid = false;
    } else {
      if (at === chunk.rows.length) this.#lastKeys[c] = chunk.keys[at - 1];
      if (this.#treeValid) this.#addToTree(c, -1);
    }
    this.#size--;
    return position;
  }

  /**
   * The rows at positions [start, end) as a new array, in O(log n + end - start): the chunk of
   * `start` is found through the chunk sizes, not by walking the rows before it.
   */
  slice(start: number, end = Infinity): T[] {
    const from = Math.max(0, start);
    let left = Math.max(0, Math.min(end, this.#size) - from);
    if (left === 0) return [];
    const chunks = this.#chunks;
    let [c, j] = this.#locate(from);
    // The chunks' arrays joined by one native concat: as fast as copying a flat array, where a
    // loop copying row by row costs 2-3x that once compiled and 8x during a short warm-up.
    const parts: T[][] = [];
    while (left > 0) {
      const rows = chunks[c++]!.rows;
      const take = Math.min(rows.length - j, left);
      parts.push(j === 0 && take === rows.length ? rows : rows.slice(j, j + take));
      left -= take;
      j = 0;
    }
    return ([] as T[]).concat(...parts);
  }

  /** The first row (smallest in this index's order) and its key, or undefined when empty. */
  first(): { key: unknown; row: T } | undefined {
    const chunk = this.#chunks[0];
    return chunk === undefined ? undefined : { key: chunk.keys[0], row: chunk.rows[0]! };
  }

  /** The last row (largest in this index's order) and its key, or undefined when empty. */
  last(): { key: unknown; row: T } | undefined {
    const chunk = this.#chunks[this.#chunks.length - 1];
    if (chunk === undefined) return undefined;
    const i = chunk.rows.length - 1;
    return { key: chunk.keys[i], row: chunk.rows[i]! };
  }

  /** The chunk and offset of a position in [0, size). */
  #locate(position: number): [number, number] {
    const chunks = this.#chunks;
    // Near the top (what a limit or the first screen shows) walking is cheaper than the tree.
    if (position < 2 * this.#chunkSize) {
      let c = 0;
      let rest = position;
      while (rest >= chunks[c]!.rows.length) rest -= chunks[c++]!.rows.length;
      return [c, rest];
    }
    const tree = this.#validTree();
    let c = 0;
    let rest = position;
    let step = 1;
    while (step * 2 <= chunks.length) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = c + step;
      if (next <= chunks.length && tree[next]! <= rest) {
        c = next;
        rest -= tree[next]!;
      }
    }
    return [c, rest];
  }

  #validTree(): number[] {
    if (this.#treeValid) return this.#tree;
    const chunks = this.#chunks;
    const tree = new Array<number>(chunks.length + 1).fill(0);
    for (let c = 0; c < chunks.length; c++) {
      const i = c + 1;
      tree[i]! += chunks[c]!.rows.length;
      const parent = i + (i & -i);
      if (parent <= chunks.length) tree[parent]! += tree[i]!;
    }
    this.#tree = tree;
    this.#treeValid = true;
    return tree;
  }

  #addToTree(chunkIndex: number, delta: number): void {
    const tree = this.#tree;
    for (let i = chunkIndex + 1; i < tree.length; i += i & -i) tree[i]! += delta;
  }

  /** The number of rows in the chunks before `chunkIndex`. */
  #rowsBefore(chunkIndex: number): number {
    const tree = this.#validTree();
    let sum = 0;
    for (let i = chunkIndex; i > 0; i -= i & -i) sum += tree[i]!;
    return sum;
  }

  /** The chunk a (key, id) belongs in: the first whose last entry is not below it. */
  #chunkFor(key: unknown, id: string): number {
    const lastKeys = this.#lastKeys;
    let lo = 0;
    let hi = lastKeys.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      let order = this.#compareKeys(lastKeys[mid], key);
      if (order === 0) {
        const rows = this.#chunks[mid]!.rows;
        order = compareIds(rows[rows.length - 1]!.id, id);
      }
      if (order < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first position in `chunk` not below (key, id). */
  #lowerBound(chunk: Chunk<T>, key: unknown, id: string): number {
    const { keys, rows } = chunk;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // #compareAt inline, and one id comparison on a tie where it makes two: a call and a
      // comparison fewer per probe (an index move alone 0.83x of before once compiled; the
      // short warm-up figure stayed within the noise).
      const order = this.#compareKeys(keys[mid], key);
      if (order === 0 ? rows[mid]!.id < id : order < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #positionOf(chunkIndex: number, offset: number, cap: number): number {
    // A small cap (a limit) is passed after a chunk or two; past that, the tree answers in O(log n).
    if (cap <= 2 * this.#chunkSize || chunkIndex <= 2) {
      let position = offset;
      for (let c = 0; c < chunkIndex && position < cap; c++)
        position += this.#chunks[c]!.rows.length;
      return Math.min(position, cap);
    }
    return Math.min(this.#rowsBefore(chunkIndex) + offset, cap);
  }
}
