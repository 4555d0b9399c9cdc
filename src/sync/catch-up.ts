// Catching up with the room: the entries and snapshots a welcome, a catch-up or a fetch brings,
// applied in order as one store batch; a snapshot in pages shown only once its last page is in;
// the fetches that ask for what is missing (the rest of a page, or what a heartbeat says was
// committed and never arrived).
import type { LogEntry, SnapshotEntity, SnapshotPage } from "../protocol/messages.js";
import type { SyncStore } from "./options.js";
import type { Replica } from "./replica.js";
import type { SnapshotProgress } from "./sync-events.js";

/** What a fetch asks the server for. */
export interface FetchRequest {
  after: number;
  snapshotFrom?: string;
  snapshotHead?: number;
}

export interface CatchUpHost {
  replica: Replica;
  store: SyncStore;
  /** Whether the connection is joined (a welcome came). */
  joined(): boolean;
  /** Sends a `fetch`. */
  fetch(request: FetchRequest): void;
  /** Announces a snapshot's progress (the `snapshot` event). */
  snapshot(progress: SnapshotProgress): void;
  /** The outbox or the cursor changed. */
  outboxChanged(): void;
}

export class CatchUp {
  readonly #host: CatchUpHost;
  /** The pages of a snapshot still loading. */
  #pages:
    | {
        head: number;
        versions: SnapshotEntity[];
        total: number | undefined;
        /** The `snapshotFrom` of the one page request in flight. */
        requested: string;
      }
    | undefined;
  #headAtLastHeartbeat = 0;

  constructor(host: CatchUpHost) {
    this.#host = host;
  }

  /** A new connection, or a welcome (which starts the join afresh): no snapshot continues. */
  reset(connectionGone: boolean): void {
    this.#pages = undefined;
    if (connectionGone) this.#headAtLastHeartbeat = 0;
  }

  /**
   * A heartbeat announced the server's head. Fetch only what should have arrived by now: entries
   * already committed at the previous heartbeat. Entries committed since are normally on their
   * way; fetching them too would make every client re-download the stream under load.
   */
  heartbeat(head: number | undefined): void {
    // While a snapshot arrives in pages the cursor waits for its last page.
    if (head === undefined || !this.#host.joined() || this.#pages !== undefined) return;
    const cursor = this.#host.replica.cursor;
    if (cursor < this.#headAtLastHeartbeat) this.#host.fetch({ after: cursor });
    this.#headAtLastHeartbeat = head;
  }

  /** A welcome's or catch-up's entries (and snapshot, maybe one page of it) arrived. */
  apply(
    payload: { head: number; entries?: LogEntry[]; snapshot?: SnapshotEntity[] } & SnapshotPage,
  ): void {
    let snapshot = payload.snapshot;
    let snapshotHead = payload.head;
    let done: SnapshotProgress | undefined;
    if (snapshot) {
      // A snapshot in pages is shown only once its last page is in: never a half-loaded room.
      const paging = this.#pages;
      // Only the page asked for continues a snapshot; a first page only starts one. A page
      // answering an older request (a fetch sent before this snapshot began) is stale: mixing it
      // in would show a room assembled from two snapshots, and a mid-room page taken for a whole
      // room would delete the rest.
      if (paging ? payload.snapshotFrom !== paging.requested : payload.snapshotFrom !== undefined)
        return;
      if (paging) {
        for (const version of snapshot) paging.versions.push(version);
        snapshotHead = paging.head;
      }
      const loaded = paging?.versions.length ?? snapshot.length;
      const total = payload.snapshotTotal ?? paging?.total;
      if (payload.snapshotNext !== undefined) {
        const pages = paging ?? {
          head: payload.head,
          versions: [...snapshot],
          total,
          requested: payload.snapshotNext,
        };
        if (total !== undefined) pages.total = total;
        pages.requested = payload.snapshotNext;
        this.#pages = pages;
        this.#host.snapshot({ loaded, ...(total === undefined ? {} : { total }), done: false });
        this.#host.fetch({
          after: this.#host.replica.cursor,
          snapshotFrom: payload.snapshotNext,
          snapshotHead,
        });
        return;
      }
      if (paging) {
        snapshot = paging.versions;
        this.#pages = undefined;
      }
      if (paging || payload.snapshotTotal !== undefined)
        done = { loaded, ...(total === undefined ? {} : { total }), done: true };
    }
    this.#host.store.batch(() => {
      if (snapshot) this.#host.replica.applySnapshot(snapshot, snapshotHead);
      for (const entry of payload.entries ?? []) this.#host.replica.receive(entry);
      this.#host.replica.drain();
    });
    this.#host.outboxChanged();
    if (done) this.#host.snapshot(done);
    // A catch-up is paged: ask for the rest (not while a snapshot is paging: its page requests
    // are the one fetch in flight, and a fetch from an old cursor would start a second snapshot).
    if (
      this.#host.joined() &&
      this.#pages === undefined &&
      Math.max(payload.head, this.#host.replica.highestPending) > this.#host.replica.cursor &&
      !this.#host.replica.canDrain
    ) {
      this.#host.fetch({ after: this.#host.replica.cursor });
    }
  }

  /** One entry of the room's order arrived on its own (a change, an ack). */
  receive(entry: LogEntry): void {
    if (!this.#host.replica.receive(entry)) return;
    if (!this.#host.joined()) return; // the welcome's catch-up drains
    if (this.#host.replica.canDrain) {
      this.#host.store.batch(() => this.#host.replica.drain());
      this.#host.outboxChanged();
    }
  }
}
