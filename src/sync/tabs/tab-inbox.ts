import type { ChangeInput } from "../../core/index.js";
import type { TabMessage } from "./messages.js";

/** What a follower does with the leader's messages, in the order they arrived. */
export interface TabInboxOptions {
  /** Changes arriving within this many milliseconds are applied together (0: as they arrive). */
  applyEveryMs: number;
  /** At most this many changes are applied in one task (at least 1); the rest wait for the next. */
  changesPerTask: number;
  /** The changes of a `changes` message to apply, read when its turn comes (none: ignored). */
  changesOf(message: Extract<TabMessage, { kind: "changes" }>): readonly ChangeInput[];
  /** Applies one part of the leader's changes (at most `changesPerTask`, in order). */
  apply(changes: ChangeInput[]): void;
  /** Handles any other message. */
  handle(message: Exclude<TabMessage, { kind: "changes" }>): void;
  /** Receives what `apply` or `handle` threw: the messages after it are handled all the same. */
  onError(error: Error): void;
}

/** A follower's queue of the leader's messages, from `tabInbox()`. */
export interface TabInbox {
  /** Takes the next message from the leader: handled now, or after those waiting before it. */
  push(message: TabMessage): void;
  /** Handles everything waiting, now, in one piece (the mirror is closing). */
  drain(): void;
  /** Stops the timers; what still waits is dropped. */
  close(): void;
}

/**
 * Every message the leader sends is handled in the order it arrived, and each task handles at
 * most one piece of work that touches the store: one part of `changesPerTask` changes, or one
 * part of a snapshot. A burst from the leader (another client's thousand comments, a server
 * catch-up) is then shown over several tasks, the page rendering and answering input between
 * them, instead of holding the main thread for the whole burst: each part's render runs in its
 * own task, which stays short even when the page waits for a core on a busy machine.
 *
 * Every change is applied exactly once and in the leader's order, and a message behind a burst
 * (the confirmation of this tab's write, the leader's state, the next snapshot part) is handled
 * only once every change before it is applied, so nothing is confirmed or reported before the
 * changes that preceded it show. A live view sees the burst arrive in parts, as it would had the
 * leader sent it that way.
 */
export function tabInbox(options: TabInboxOptions): TabInbox {
  const { applyEveryMs, changesOf, apply, handle, onError } = options;
  const guarded = (work: () => void) => {
    try {
      work();
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  };
  // At least one change per part (below 1, or not a number, would never take one).
  const perTask = options.changesPerTask >= 1 ? options.changesPerTask : 1;
  const queue: TabMessage[] = [];
  /** How many changes of `queue[0]` are applied already (it is applied over several parts). */
  let applied = 0;
  /** The end of the `applyEveryMs` window. */
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the next part's task is coming. */
  let continuing = false;
  const nextPart = taskPoster(() => {
    if (continuing) run(true);
  });

  /** Takes the next part of the changes at the head of the queue (consecutive messages joined). */
  const takePart = (): ChangeInput[] => {
    const part: ChangeInput[] = [];
    while (part.length < perTask) {
      const head = queue[0];
      if (head?.kind !== "changes") break;
      const changes = changesOf(head);
      const end = Math.min(changes.length, applied + perTask - part.length);
      for (let i = applied; i < end; i++) part.push(changes[i]!);
      applied = end;
      if (applied < changes.length) break;
      queue.shift();
      applied = 0;
    }
    return part;
  };

  /** Handles what waits, up to one part's work (all of it with `limit` false). */
  const run = (limit: boolean) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    continuing = false;
    let worked = false;
    while (queue.length > 0) {
      const head = queue[0]!;
      const heavy = head.kind === "changes" || head.kind === "snapshot" || head.kind === "preview";
      if (heavy && worked && limit) {
        // The rest in the next task: the page renders this part and handles input first.
        continuing = true;
        nextPart.post();
        return;
      }
      if (head.kind === "changes") {
        const part = takePart();
        if (part.length > 0) {
          worked = true;
          guarded(() => apply(part));
        }
        continue;
      }
      queue.shift();
      if (heavy) worked = true;
      guarded(() => handle(head));
    }
  };

  return {
    push(message) {
      queue.push(message);
      // The next part's task comes anyway, and reaches this message in its turn.
      if (continuing) return;
      if (message.kind === "changes" && applyEveryMs > 0) {
        timer ??= setTimeout(() => run(true), applyEveryMs);
        return;
      }
      // Any other message ends the window: the changes before it are applied first.
      run(true);
    },
    drain() {
      run(false);
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      continuing = false;
      nextPart.close();
      queue.length = 0;
      applied = 0;
    },
  };
}

/**
 * Runs `task` in a task of its own, soon, at each `post()` (only the latest one counts): a
 * MessageChannel message where there is one, since browsers hold nested 0 ms timers for 4 ms each,
 * which would add up over a burst of many parts; else a timer.
 */
function taskPoster(task: () => void): { post(): void; close(): void } {
  if (typeof MessageChannel === "undefined") {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return {
      post() {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(task, 0);
      },
      close() {
        if (timer !== undefined) clearTimeout(timer);
      },
    };
  }
  let channel: MessageChannel | undefined;
  let latest = 0;
  return {
    post() {
      if (!channel) {
        channel = new MessageChannel();
        channel.port1.onmessage = ({ data }) => {
          if (data === latest) task();
        };
        // In Node, a port listened to keeps the process alive; a part waiting must not.
        (channel.port1 as { unref?(): void }).unref?.();
      }
      channel.port2.postMessage(++latest);
    },
    close() {
      channel?.port1.close();
      channel = undefined;
    },
  };
}
