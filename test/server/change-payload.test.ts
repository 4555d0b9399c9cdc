// changePayload: the one mapping from a change as it is kept (a client's outbox entry, the
// server's log entry) to the payload of a change message. Both sides' messages must parse.
import { describe, expect, it } from "vitest";
import {
  changeFromEntry,
  changePayload,
  entryFromChange,
  type LogEntry,
  parseClientMessage,
  parseServerMessage,
} from "../../src/protocol/messages.js";
import type { OutboxEntry } from "../../src/sync/persistence.js";
import { comment } from "../fixtures/schema.js";

const outboxEntry: OutboxEntry = {
  messageId: "m1",
  timestamp: 5,
  operation: "upsert",
  entityType: "comment",
  entityId: "c1",
  entity: comment("c1"),
  vector: { ann: 1 },
  strategy: "operational-transform",
  changedFields: ["body"],
};

const logEntry: LogEntry = {
  seq: 7,
  messageId: "m1",
  userId: "ann",
  timestamp: 5,
  operation: "upsert",
  entityType: "comment",
  entityId: "c1",
  entity: comment("c1", { body: "merged" }),
  vector: { ann: 2, bob: 1 },
  conflict: { strategy: "last-write-wins", attempted: comment("c1"), current: null },
};

describe("changePayload", () => {
  it("keeps the protocol's fields of an outbox entry and nothing else", () => {
    const payload = changePayload(outboxEntry);
    // Every field of the entry but the two the message carries beside its payload.
    const { messageId: _m, timestamp: _t, ...protocolFields } = outboxEntry;
    expect(payload).toEqual(protocolFields);
    const message = { type: "change", payload, timestamp: 5, userId: "ann", messageId: "m1" };
    expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, message });
  });

  it("omits the optional fields a change does not have (no undefined keys on the wire)", () => {
    const { entity: _e, changedFields: _c, ...rest } = outboxEntry;
    const payload = changePayload({ ...rest, operation: "delete" });
    expect(Object.keys(payload).sort()).toEqual(
      ["entityId", "entityType", "operation", "strategy", "vector"].sort(),
    );
  });

  it("a log entry's change message parses and carries the same entry back", () => {
    const message = changeFromEntry(logEntry);
    expect(message.payload.seq).toBe(7);
    expect(Object.keys(message.payload)).not.toContain("messageId");
    const parsed = parseServerMessage(JSON.stringify(message));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.message.type).toBe("change");
    expect(entryFromChange(parsed.message as typeof message)).toEqual(logEntry);
  });

  it("a deleted entity's entry has no entity in its change", () => {
    const { entity: _e, conflict: _c, ...deleted } = logEntry;
    const message = changeFromEntry({ ...deleted, operation: "delete" });
    expect("entity" in message.payload).toBe(false);
    expect(parseServerMessage(JSON.stringify(message)).ok).toBe(true);
  });
});
