/**
 * The one place the demo reads the sync engine's state: connection, queue, and whether changes
 * are getting through. Today it derives the last from events (an error since the last
 * acknowledgement, or a queue that does not move while connected); when the engine offers
 * `engine.status`, `engine.queueSize` and `engine.lastError` as signals, this file reads those
 * and nothing else changes.
 */
import type { ConnectionStatus, NetworkSyncEngine } from "../../../src/sync/index.js";

export interface EngineStatus {
  connection: ConnectionStatus;
  outbox: number;
  /** Why changes are stuck although the connection is up, or null. */
  problem: string | null;
}

/**
 * Connected with changes waiting and no acknowledgement for this long: stuck. Shorter than the
 * engine's heartbeat deadline (two 15 s intervals), which ends a connection that is silent.
 */
export const STALL_AFTER_MS = 10_000;

/** Calls `onChange` with the engine's status now and whenever it changes; returns the stop. */
export function watchEngineStatus(
  engine: NetworkSyncEngine,
  onChange: (status: EngineStatus) => void,
): () => void {
  let lastError: string | null = null;
  let progressAt = Date.now();
  let waiting = engine.getOfflineQueueSize();
  let last = "";
  const read = (): EngineStatus => {
    const connection = engine.getConnectionStatus();
    const outbox = engine.getOfflineQueueSize();
    let problem: string | null = null;
    if (outbox > 0 && lastError) problem = lastError;
    else if (connection === "connected" && outbox > 0 && Date.now() - progressAt > STALL_AFTER_MS)
      problem = `The server has not accepted a change for over ${STALL_AFTER_MS / 1000} s.`;
    return { connection, outbox, problem };
  };
  const refresh = () => {
    const status = read();
    const key = JSON.stringify(status);
    if (key === last) return;
    last = key;
    onChange(status);
  };
  const stops = [
    engine.on("status", (status) => {
      // A new connection gets a new chance to send.
      if (status === "connected") progressAt = Date.now();
      refresh();
    }),
    engine.on("queue", (size) => {
      if (size === 0) lastError = null;
      // The first change to wait starts the clock; an old acknowledgement does not.
      if (waiting === 0 && size > 0) progressAt = Date.now();
      waiting = size;
      refresh();
    }),
    engine.on("ack", () => {
      progressAt = Date.now();
      lastError = null;
      refresh();
    }),
    engine.on("error", (error) => {
      lastError = error.message;
      refresh();
    }),
  ];
  const timer = setInterval(refresh, 1000);
  refresh();
  return () => {
    clearInterval(timer);
    for (const stop of stops) stop();
  };
}
