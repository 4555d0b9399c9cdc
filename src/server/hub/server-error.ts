// What the hub reports to onError is always a KalphiteError: a failure of a storage or driver
// (a pg or PGlite error) is wrapped, with what the server was doing, and the original as cause.
import { KalphiteError, KalphitePersistenceError, KalphiteSyncError } from "../../core/index.js";

/**
 * `error` if it is a KalphiteError, else a KalphitePersistenceError (storage work) or
 * KalphiteSyncError (socket work) saying what failed, with `error` as its cause.
 *
 * @example report(serverError(error, "storage", `Storing 3 changes of room "r1"`));
 */
export function serverError(
  error: unknown,
  kind: "storage" | "socket",
  doing: string,
): KalphiteError {
  if (error instanceof KalphiteError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return kind === "storage"
    ? new KalphitePersistenceError(
        `${doing} failed: ${reason}. The clients keep their changes and resend them; check the database.`,
        { cause: error },
      )
    : new KalphiteSyncError(`${doing} failed: ${reason}.`, { cause: error, code: "send-failed" });
}
