// `maxStorageMB`: the bytes a database stores (entity rows, metadata, and the sync tables'
// confirmed versions and outbox), kept as a running total while a limit is set, so that a write
// past it is refused before its COMMIT.
import type { PGlite } from "@electric-sql/pglite";
import { KalphiteStorageLimitError, KalphiteUsageError } from "../core/index.js";
import { TOTAL_BYTES } from "./sql.js";

const MB = 1024 * 1024;

export class StorageBudget {
  readonly maxStorageMB: number;
  /** Bytes stored, kept only when `limited`. */
  bytes = 0;

  constructor(maxStorageMB: number | undefined) {
    const max = maxStorageMB ?? Number.POSITIVE_INFINITY;
    if (typeof max !== "number" || Number.isNaN(max) || max <= 0) {
      throw new KalphiteUsageError(`maxStorageMB must be a positive number, got ${String(max)}.`);
    }
    this.maxStorageMB = max;
  }

  /** Whether the running total is kept: only a finite `maxStorageMB` needs it. */
  get limited(): boolean {
    return Number.isFinite(this.maxStorageMB);
  }

  /** Counts the bytes stored from scratch (on open, after migrating). */
  async count(pg: Pick<PGlite, "query">): Promise<void> {
    if (this.limited) this.bytes = await this.measure(pg);
  }

  /** The bytes stored, counted (inside a transaction: as that transaction sees them). */
  async measure(pg: Pick<PGlite, "query">): Promise<number> {
    return (await pg.query<{ bytes: number }>(TOTAL_BYTES)).rows[0]!.bytes;
  }

  /**
   * The change in bytes stored of a write in progress that replaced `before` bytes with
   * `written`. Past the limit it throws, which rolls the write's transaction back; only growth is
   * refused, so shrinking data over the limit stays possible. The caller adds the change to
   * `bytes` once the write committed: a delta, not a total, so that a write committing meanwhile
   * (a delete, another transaction) is not overwritten.
   */
  change(before: number, written: number): number {
    const after = this.bytes - before + written;
    if (written > before && after > this.maxStorageMB * MB) throw this.limitError(after);
    return written - before;
  }

  /** `change` of a write in progress that grew the bytes by `grown` (negative: shrank). */
  grow(grown: number): number {
    return grown > 0 ? this.change(0, grown) : this.change(-grown, 0);
  }

  /** Throws the limit's error when `bytes` are over it. */
  check(bytes: number): void {
    if (bytes > this.maxStorageMB * MB) throw this.limitError(bytes);
  }

  limitError(bytes: number): KalphiteStorageLimitError {
    return new KalphiteStorageLimitError(
      // In bytes: rounded to MB, a write just over a small limit read as equal to it.
      `This write would store ${bytes.toLocaleString("en")} bytes, over maxStorageMB (${this.maxStorageMB} MB = ${Math.floor(this.maxStorageMB * MB).toLocaleString("en")} bytes); nothing was written. Delete entities or metadata, or raise maxStorageMB.`,
    );
  }
}
