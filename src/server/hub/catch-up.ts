// What a client that joins or fetches receives: the entries after its cursor, or the room's
// latest versions, in pages of bounded size read page by page from storage.
import { Buffer } from "node:buffer";
import { KalphiteSyncError } from "../../core/index.js";
import type {
  CatchUpMessage,
  FetchMessage,
  LogEntry,
  SnapshotEntity,
} from "../../protocol/messages.js";
import type { SyncStorage } from "../storage/storage.js";
import { FRAME_OVERHEAD, pagesOf } from "./pages.js";

/** Rows read from storage per query while filling a page. */
const READ_ROWS = 500;

/** Where a snapshot page starts: after this entity (in the storage's key order). */
function decodeCursor(text: string): [string, string] {
  try {
    const value = JSON.parse(text) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string"
    )
      return [value[0], value[1]];
  } catch {
    // Reported below.
  }
  throw new KalphiteSyncError(
    "fetch.payload.snapshotFrom is not a snapshotNext this server sent: send it back unchanged.",
    { code: "invalid-message" },
  );
}

const encodeCursor = (version: SnapshotEntity) =>
  JSON.stringify([version.entityType, version.entityId]);

/**
 * The answer to a join or a fetch. From a cursor the log covers: the entries after it, as many as
 * fit in `maxFrameBytes` (`head` says whether more follow). From cursor 0, a cursor the log no
 * longer covers (compacted) or one ahead of the room, and at a join (`joining`) from a cursor
 * further behind than the room has entities: the first page of the room's latest versions, with
 * `snapshotNext` while more follow. With `snapshotFrom`: the next page of that snapshot.
 *
 * @example const payload = await readCatchUp(storage, "room", { after: 0 }, 256 * 1024);
 */
export async function readCatchUp(
  storage: SyncStorage,
  roomId: string,
  from: FetchMessage["payload"],
  maxFrameBytes: number,
  joining = false,
): Promise<CatchUpMessage["payload"]> {
  const budget = Math.max(1, maxFrameBytes - FRAME_OVERHEAD);
  if (from.snapshotFrom !== undefined) {
    const page = await snapshotPage(
      storage,
      roomId,
      from.snapshotHead ?? 0,
      decodeCursor(from.snapshotFrom),
      budget,
    );
    // Echoed, so the client knows which of its requests this page answers.
    return { ...page, snapshotFrom: from.snapshotFrom };
  }
  const head = await storage.head(roomId);
  const horizon = await storage.horizon(roomId);
  if (
    from.after === 0 ||
    from.after > head ||
    from.after < horizon ||
    (joining && (await furtherBehindThanRoom(storage, roomId, head - from.after)))
  ) {
    // The head first: versions read after it are at least that new, never older.
    const [page, total] = await Promise.all([
      snapshotPage(storage, roomId, head, undefined, budget),
      storage.entityCount(roomId),
    ]);
    return { ...page, snapshotTotal: total };
  }
  const entries = await storage.entriesAfter(roomId, from.after, READ_ROWS);
  const first: LogEntry[] = pagesOf(entries, budget)[0]?.items ?? [];
  return { head: Math.max(head, first.at(-1)?.seq ?? 0), entries: first };
}

/**
 * Whether a reader `behind` entries behind catches up with less by the room's latest versions
 * than by replaying every entry since: when fewer entities than entries remain, as for a laptop
 * back after a month in a busy room (years of edits of the same entities). Asked once per join
 * (a paged catch-up's fetches go on by entries), counting at most `behind` rows, so it costs no
 * more than the replay it may save. A reader up to one read behind replays.
 */
async function furtherBehindThanRoom(
  storage: SyncStorage,
  roomId: string,
  behind: number,
): Promise<boolean> {
  if (behind <= READ_ROWS) return false;
  return (await storage.entityCount(roomId, behind)) < behind;
}

/** One page of a snapshot taken at `head`, starting after `after`. */
async function snapshotPage(
  storage: SyncStorage,
  roomId: string,
  head: number,
  after: [string, string] | undefined,
  budget: number,
): Promise<CatchUpMessage["payload"]> {
  const page: SnapshotEntity[] = [];
  let bytes = 2;
  let cursor = after;
  for (;;) {
    const rows = await storage.snapshotPage(roomId, { after: cursor, limit: READ_ROWS });
    for (const version of rows) {
      const size = Buffer.byteLength(JSON.stringify(version)) + 1;
      if (page.length > 0 && bytes + size > budget)
        return { head, snapshot: page, snapshotNext: encodeCursor(page.at(-1) as SnapshotEntity) };
      page.push(version);
      bytes += size;
    }
    const last = rows.at(-1);
    if (rows.length < READ_ROWS || !last) return { head, snapshot: page };
    cursor = [last.entityType, last.entityId];
  }
}
