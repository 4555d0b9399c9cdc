import type { Entity, EntityId } from "../core/index.js";

/** The envelope of every protocol message (the seed's `SyncMessage`). */
export interface SyncMessage {
  type: "change" | "ack" | "conflict" | "heartbeat";
  payload: any;
  /** Milliseconds since the epoch, on the sender's clock. */
  timestamp: number;
  /** The user the message is from (the server overrides what a client claims). */
  userId: string;
  /** Unique per message; a resent change keeps its id, so the server applies it once. */
  messageId: string;
}

/** One entity change on the wire (the seed's `ChangeMessage`). */
export interface ChangeMessage extends SyncMessage {
  type: "change";
  payload: {
    operation: "upsert" | "delete";
    entityType: string;
    entityId: EntityId;
    entity?: Entity;
    /**
     * From a client: the version of the entity the change was made on (what it had seen).
     * From the server: the version the change produced.
     */
    vector: VectorClock;
    /** Set by the server: the change's position in the room's order. */
    seq?: number;
    /** The strategy the writer wants for a concurrent edit. @default the client's config */
    strategy?: ConflictStrategy;
    /** For `operational-transform`: the `data` fields this change edited. @default all fields */
    changedFields?: string[];
  };
}

/** A version vector: per user, how many of their changes an entity version includes. */
export type VectorClock = Record<string, number>;

/** The names of the conflict strategies. */
export type ConflictStrategy = "last-write-wins" | "operational-transform" | "manual";
