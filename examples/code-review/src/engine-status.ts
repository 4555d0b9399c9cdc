/**
 * The one place the demo reads the sync engine's state. The engine offers it as signals
 * (`engine.status`, `engine.queueSize`, `engine.lastError`, `engine.refused`); this adds only the
 * demo's own rule that a change waiting unacknowledged for a while on an open connection is
 * shown as stuck, so the pill never says "Live" while nothing gets through.
 */
import { effect } from "@preact/signals-core";
import type { ConnectionStatus, NetworkSyncEngine } from "kalphite/sync";

export interface EngineStatus {
  connection: ConnectionStatus;
  outbox: number;
  /** Why changes are not getting through although the connection is up, or null. */
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
  let waitingSince = 0;
  let last = "";
  const read = (): EngineStatus => {
    const status = engine.status.value;
    const outbox = engine.queueSize.value;
    const connection = engine.getConnectionStatus();
    const refused = engine.refused.value;
    let problem: string | null = null;
    if (status === "refused") {
      const latest = refused[refused.length - 1];
      problem = `The server refused a change for good${latest ? `: ${latest.error.message}` : ""}. It was undone here.`;
    } else if (status === "pending") {
      const error = engine.lastError.value;
      if (waitingSince === 0) waitingSince = Date.now();
      if (Date.now() - waitingSince > STALL_AFTER_MS)
        problem = error
          ? error.message
          : `The server has not accepted a change for over ${STALL_AFTER_MS / 1000} s.`;
    } else {
      waitingSince = 0;
    }
    return { connection, outbox, problem };
  };
  const publish = (status: EngineStatus) => {
    const key = JSON.stringify(status);
    if (key === last) return;
    last = key;
    onChange(status);
  };
  const stop = effect(() => publish(read()));
  // An ack moves the queue; without one, time alone turns "pending" into "stuck".
  const stopAck = engine.on("ack", () => {
    waitingSince = engine.queueSize.peek() > 0 ? Date.now() : 0;
  });
  const timer = setInterval(() => publish(read()), 1000);
  return () => {
    clearInterval(timer);
    stopAck();
    stop();
  };
}
