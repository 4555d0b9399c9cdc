// The wire protocol between NetworkSyncEngine and the sync server. See ARCHITECTURE.md beside
// this file for the design and the convergence argument.
import type { Entity, EntityId, ServerErrorCode } from "../core/index.js";
import type { ChangeMessage, ConflictStrategy, SyncMessage, VectorClock } from "./types.js";
import { isVectorClock } from "./vector-clock.js";

/** Bumped when a message changes incompatibly; the server refuses other versions. */
export const PROTOCOL_VERSION = 1;

/** The conflict strategies the protocol knows. */
export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = [
  "last-write-wins",
  "operational-transform",
  "manual",
];

/** A concurrent edit the server resolved, recorded on the log entry it produced. */
export interface ConflictRecord {
  strategy: ConflictStrategy;
  /** What the writer sent (null for a delete). */
  attempted: Entity | null;
  /** What the server held when the change arrived (null if deleted). */
  current: Entity | null;
}

/**
 * One change in a room's order: the result of a client's change as the server stored it.
 * `entity` is the entity after the change (absent when the change left it deleted).
 */
export interface LogEntry {
  seq: number;
  messageId: string;
  userId: string;
  timestamp: number;
  operation: "upsert" | "delete";
  entityType: string;
  entityId: EntityId;
  entity?: Entity;
  vector: VectorClock;
  conflict?: ConflictRecord;
}

/** The latest version of one entity in a room (a tombstone when `entity` is null). */
export interface SnapshotEntity {
  entityType: string;
  entityId: EntityId;
  entity: Entity | null;
  vector: VectorClock;
  seq: number;
}

interface Envelope<T extends string, P> {
  type: T;
  payload: P;
  timestamp: number;
  userId: string;
  messageId: string;
}

/** Client → server, first message: who I am, where, and from which position to catch up. */
export type HelloMessage = Envelope<
  "hello",
  { protocol: number; roomId: string; token: string; cursor: number }
>;
/**
 * The limits a server announces in `welcome`. A client refuses at `upsert` what it could never send
 * (the last known limits, or `DEFAULT_LIMITS` before the first connection).
 */
export interface ServerLimits {
  /** The largest message the server reads, in bytes of its UTF-8 JSON. */
  maxMessageBytes: number;
  /** The deepest nesting of objects and arrays in an entity the server stores. */
  maxDepth: number;
}

/** The limits a client assumes until a server has announced its own. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxMessageBytes: 1_048_576,
  maxDepth: 64,
});

/**
 * A page of a room's latest versions. A join, or a catch-up from a cursor the log no longer
 * covers, arrives as a snapshot in pages: every page but the last carries `snapshotNext`, and the
 * client asks for the next one with `fetch { after, snapshotFrom: snapshotNext, snapshotHead }`.
 * The client shows the snapshot only once the last page is in (never a half-loaded room), then
 * applies the entries after `snapshotHead`.
 */
export interface SnapshotPage {
  /** Where the next page starts (opaque); absent on the last page. */
  snapshotNext?: string;
  /** How many entities the whole snapshot holds (for progress), when the server knows it. */
  snapshotTotal?: number;
  /**
   * On every page but the first: the `snapshotFrom` of the fetch it answers, so a client accepts
   * only the page it asked for (a page answering an older request would mix two snapshots).
   */
  snapshotFrom?: string;
}

/** Server → client: admitted; the catch-up since the client's cursor (entries or a snapshot). */
export type WelcomeMessage = Envelope<
  "welcome",
  {
    roomId: string;
    userId: string;
    head: number;
    limits?: ServerLimits;
    entries?: LogEntry[];
    snapshot?: SnapshotEntity[];
  } & SnapshotPage
>;
/**
 * Client → server: send me the entries after `after` (a gap was detected), or, with
 * `snapshotFrom`, the next page of the snapshot taken at `snapshotHead`.
 */
export type FetchMessage = Envelope<
  "fetch",
  { after: number; snapshotFrom?: string; snapshotHead?: number }
>;
/** Server → client: the answer to a fetch. */
export type CatchUpMessage = Envelope<
  "catch-up",
  { head: number; entries?: LogEntry[]; snapshot?: SnapshotEntity[] } & SnapshotPage
>;
/** Server → the writer: the change was stored as `entry` (no concurrent edit). */
export type AckMessage = Envelope<"ack", { ackedId: string; entry: LogEntry }>;
/** Server → the writer: the change was concurrent with another and resolved into `entry`. */
export type ConflictMessage = Envelope<"conflict", { ackedId: string; entry: LogEntry }>;
/** Both ways: liveness. A client sends its cursor; the server answers with the room's head. */
export type HeartbeatMessage = Envelope<"heartbeat", { cursor?: number; head?: number }>;
/**
 * Server → client: something was refused. `rejectedId` names a change that was not stored;
 * `permanent: true` says it never will be (resending it cannot help: the client drops it from its
 * outbox and shows the server's version). Without `permanent`, a named change may be resent.
 */
export type ErrorMessage = Envelope<
  "error",
  {
    code: SyncErrorCode;
    message: string;
    rejectedId?: string;
    permanent?: boolean;
    fatal?: boolean;
  }
>;

/** Machine-readable reasons in error messages (the server's `KalphiteSyncError.code`s). */
export type SyncErrorCode = ServerErrorCode;

/** What a client may send. */
export type ClientMessage = HelloMessage | ChangeMessage | HeartbeatMessage | FetchMessage;
/** What the server may send. */
export type ServerMessage =
  | WelcomeMessage
  | ChangeMessage
  | AckMessage
  | ConflictMessage
  | HeartbeatMessage
  | CatchUpMessage
  | ErrorMessage;

/** Every message of the protocol extends the seed's SyncMessage envelope. */
export type ProtocolMessage = ClientMessage | ServerMessage;
// Compile-time check that the envelope matches the seed's.
type _Extends = ProtocolMessage extends Omit<SyncMessage, "type"> ? true : never;
const _extends: _Extends = true;
void _extends;

/** The outcome of parsing one incoming message. */
export type ParseResult<M> =
  | { ok: true; message: M }
  | { ok: false; code: SyncErrorCode; error: string };

const fail = (code: SyncErrorCode, error: string) => ({ ok: false as const, code, error });

/**
 * True for a plain JSON object: not null, not an array. Every shape check of the protocol starts here.
 *
 * @example if (!isRecord(message.payload)) return "needs an object payload";
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
const isString = (v: unknown): v is string => typeof v === "string";
const isNonEmptyString = (v: unknown): v is string =>
  typeof v === "string" && v.length > 0 && v.length <= 512;
const isCount = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function checkEnvelope(value: unknown): string | undefined {
  if (!isRecord(value)) return "a message must be a JSON object";
  if (!isString(value.type)) return 'a message needs a string "type"';
  if (!isRecord(value.payload)) return `"${value.type}" needs an object "payload"`;
  if (!isTime(value.timestamp)) return `"${value.type}" needs a numeric "timestamp"`;
  if (!isString(value.userId)) return `"${value.type}" needs a string "userId"`;
  if (!isNonEmptyString(value.messageId))
    return `"${value.type}" needs a non-empty "messageId" (at most 512 characters)`;
  return undefined;
}

/** Checks a change payload's shape; returns why it is wrong, or undefined. */
function checkChangePayload(p: Record<string, unknown>): string | undefined {
  if (p.operation !== "upsert" && p.operation !== "delete")
    return 'change.payload.operation must be "upsert" or "delete"';
  if (!isNonEmptyString(p.entityType))
    return "change.payload.entityType must be a non-empty string";
  if (!isNonEmptyString(p.entityId)) return "change.payload.entityId must be a non-empty string";
  if (p.operation === "upsert" && !isRecord(p.entity))
    return "an upsert needs change.payload.entity (an object)";
  if (!isVectorClock(p.vector))
    return "change.payload.vector must map user ids to non-negative integers";
  if (p.seq !== undefined && !isCount(p.seq))
    return "change.payload.seq must be a non-negative integer";
  if (p.strategy !== undefined && !CONFLICT_STRATEGIES.includes(p.strategy as ConflictStrategy)) {
    return `change.payload.strategy must be one of ${CONFLICT_STRATEGIES.join(", ")}`;
  }
  if (
    p.changedFields !== undefined &&
    !(Array.isArray(p.changedFields) && p.changedFields.every(isString))
  ) {
    return "change.payload.changedFields must be an array of strings";
  }
  return undefined;
}

function parseJson(text: string): ParseResult<unknown> {
  try {
    return { ok: true, message: JSON.parse(text) };
  } catch (error) {
    return fail(
      "malformed-json",
      `The message is not valid JSON (${(error as Error).message}). Send one JSON object per WebSocket message.`,
    );
  }
}

/**
 * Parses and validates a message a client sent. Never throws: a bad message gives
 * `{ ok: false, code, error }` with an error that says what to fix.
 *
 * @example
 * const result = parseClientMessage(text);
 * if (!result.ok) socket.send(JSON.stringify({ type: "error", payload: { code: result.code, message: result.error } }));
 */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const m = json.message;
  const envelopeError = checkEnvelope(m);
  if (envelopeError) return fail("invalid-message", `Invalid message: ${envelopeError}.`);
  const { type, payload: p } = m as { type: string; payload: Record<string, unknown> };
  switch (type) {
    case "hello":
      if (!isCount(p.protocol))
        return fail(
          "invalid-message",
          "hello.payload.protocol must be the protocol version number.",
        );
      if (!isNonEmptyString(p.roomId))
        return fail("invalid-message", "hello.payload.roomId must be a non-empty string.");
      if (!isString(p.token))
        return fail("invalid-message", "hello.payload.token must be a string (empty when none).");
      if (!isCount(p.cursor))
        return fail(
          "invalid-message",
          "hello.payload.cursor must be a non-negative integer (0 for a first join).",
        );
      break;
    case "change": {
      const error = checkChangePayload(p);
      if (error) return fail("invalid-message", `Invalid change: ${error}.`);
      break;
    }
    case "heartbeat":
      if (p.cursor !== undefined && !isCount(p.cursor))
        return fail("invalid-message", "heartbeat.payload.cursor must be a non-negative integer.");
      break;
    case "fetch":
      if (!isCount(p.after))
        return fail("invalid-message", "fetch.payload.after must be a non-negative integer.");
      if (
        p.snapshotFrom !== undefined &&
        !(isString(p.snapshotFrom) && p.snapshotFrom.length <= 4096)
      )
        return fail(
          "invalid-message",
          "fetch.payload.snapshotFrom must be the snapshotNext the server sent.",
        );
      if (
        (p.snapshotFrom === undefined) !== (p.snapshotHead === undefined) ||
        (p.snapshotHead !== undefined && !isCount(p.snapshotHead))
      )
        return fail(
          "invalid-message",
          "fetch.payload.snapshotHead (a non-negative integer) goes with snapshotFrom.",
        );
      break;
    default:
      return fail(
        "invalid-message",
        `Unknown message type "${type}": a client sends hello, change, heartbeat or fetch.`,
      );
  }
  return { ok: true, message: m as ClientMessage };
}

function checkEntry(e: unknown): boolean {
  if (!isRecord(e)) return false;
  return (
    isCount(e.seq) &&
    isString(e.messageId) &&
    isString(e.userId) &&
    (e.operation === "upsert" || e.operation === "delete") &&
    isString(e.entityType) &&
    isString(e.entityId) &&
    (e.entity === undefined || isRecord(e.entity)) &&
    isVectorClock(e.vector)
  );
}

function checkSnapshot(s: unknown): boolean {
  return (
    isRecord(s) &&
    isString(s.entityType) &&
    isString(s.entityId) &&
    (s.entity === null || isRecord(s.entity)) &&
    isVectorClock(s.vector) &&
    isCount(s.seq)
  );
}

/**
 * Parses and validates a message from the server. Never throws.
 *
 * @example const result = parseServerMessage(event.data); if (result.ok) handle(result.message);
 */
export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  const json = parseJson(text);
  if (!json.ok) return json;
  const m = json.message;
  const envelopeError = checkEnvelope(m);
  if (envelopeError) return fail("invalid-message", `Invalid server message: ${envelopeError}.`);
  const { type, payload: p } = m as { type: string; payload: Record<string, unknown> };
  const bad = (what: string) =>
    fail("invalid-message", `Invalid server message "${type}": ${what}.`);
  switch (type) {
    case "welcome":
    case "catch-up":
      if (!isCount(p.head)) return bad("head must be a non-negative integer");
      if (p.entries !== undefined && !(Array.isArray(p.entries) && p.entries.every(checkEntry)))
        return bad("bad entries");
      if (
        p.snapshot !== undefined &&
        !(Array.isArray(p.snapshot) && p.snapshot.every(checkSnapshot))
      )
        return bad("bad snapshot");
      if (p.snapshotNext !== undefined && !isString(p.snapshotNext))
        return bad("snapshotNext must be a string");
      if (p.snapshotFrom !== undefined && !isString(p.snapshotFrom))
        return bad("snapshotFrom must be a string");
      if (p.snapshotTotal !== undefined && !isCount(p.snapshotTotal))
        return bad("snapshotTotal must be a non-negative integer");
      if (
        p.limits !== undefined &&
        !(isRecord(p.limits) && isCount(p.limits.maxMessageBytes) && isCount(p.limits.maxDepth))
      )
        return bad("limits needs maxMessageBytes and maxDepth (non-negative integers)");
      break;
    case "change": {
      const error = checkChangePayload(p);
      if (error || !isCount(p.seq)) return bad(error ?? "a change from the server needs a seq");
      break;
    }
    case "ack":
    case "conflict":
      if (!isString(p.ackedId) || !checkEntry(p.entry)) return bad("needs ackedId and entry");
      break;
    case "heartbeat":
      if (p.head !== undefined && !isCount(p.head))
        return bad("head must be a non-negative integer");
      break;
    case "error":
      if (!isString(p.code) || !isString(p.message)) return bad("needs code and message");
      break;
    default:
      return bad("unknown type");
  }
  return { ok: true, message: m as ServerMessage };
}

/** The fields of a change that travel in a change message, however the change is kept. */
export type ChangeFields = Pick<
  ChangeMessage["payload"],
  | "operation"
  | "entityType"
  | "entityId"
  | "entity"
  | "vector"
  | "seq"
  | "strategy"
  | "changedFields"
>;

/**
 * The payload of a change message for a change as one side keeps it (a client's outbox entry, a
 * server's log entry): the protocol's fields only, each optional one only when set.
 *
 * @example socket.send(JSON.stringify({ type: "change", payload: changePayload(outboxEntry), timestamp, userId, messageId }));
 */
export function changePayload(change: ChangeFields): ChangeMessage["payload"] {
  const payload: ChangeMessage["payload"] = {
    operation: change.operation,
    entityType: change.entityType,
    entityId: change.entityId,
    vector: change.vector,
  };
  if (change.entity) payload.entity = change.entity;
  if (change.seq !== undefined) payload.seq = change.seq;
  if (change.strategy) payload.strategy = change.strategy;
  if (change.changedFields) payload.changedFields = change.changedFields;
  return payload;
}

/**
 * The change message that announces a log entry to a room.
 *
 * @example socket.send(JSON.stringify(changeFromEntry(entry)));
 */
export function changeFromEntry(entry: LogEntry): ChangeMessage {
  const payload = changePayload(entry);
  const message: ChangeMessage = {
    type: "change",
    payload,
    timestamp: entry.timestamp,
    userId: entry.userId,
    messageId: entry.messageId,
  };
  if (entry.conflict) (message.payload as { conflict?: ConflictRecord }).conflict = entry.conflict;
  return message;
}

/**
 * The log entry a server change message carries.
 *
 * @example const entry = entryFromChange(message);
 */
export function entryFromChange(message: ChangeMessage): LogEntry {
  const p = message.payload as ChangeMessage["payload"] & { conflict?: ConflictRecord };
  const entry: LogEntry = {
    seq: p.seq ?? 0,
    messageId: message.messageId,
    userId: message.userId,
    timestamp: message.timestamp,
    operation: p.operation,
    entityType: p.entityType,
    entityId: p.entityId,
    vector: p.vector,
  };
  if (p.entity) entry.entity = p.entity;
  if (p.conflict) entry.conflict = p.conflict;
  return entry;
}

/**
 * A random message id (crypto.randomUUID where available).
 *
 * @example const id = newMessageId();
 */
export function newMessageId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}
