import { describe, expect, it } from "vitest";
import {
  changeFromEntry,
  entryFromChange,
  type LogEntry,
  parseClientMessage,
  parseServerMessage,
} from "../../src/protocol/messages.js";
import { Emitter } from "../../src/sync/index.js";
import { comment } from "../fixtures/schema.js";

const env = (type: string, payload: unknown) =>
  JSON.stringify({ type, payload, timestamp: 1, userId: "ann", messageId: "m1" });

describe("parseClientMessage", () => {
  it("accepts the client messages", () => {
    expect(
      parseClientMessage(env("hello", { protocol: 1, roomId: "r", token: "", cursor: 0 })).ok,
    ).toBe(true);
    expect(
      parseClientMessage(
        env("change", { operation: "delete", entityType: "comment", entityId: "c1", vector: {} }),
      ).ok,
    ).toBe(true);
    expect(parseClientMessage(env("heartbeat", { cursor: 3 })).ok).toBe(true);
    expect(parseClientMessage(env("fetch", { after: 3 })).ok).toBe(true);
  });

  it("says what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["nope", /not valid JSON/],
      ["[]", /JSON object/],
      [env("welcome", {}), /Unknown message type/],
      [
        env("change", { operation: "upsert", entityType: "comment", entityId: "c1", vector: {} }),
        /needs change.payload.entity/,
      ],
      [
        env("change", {
          operation: "delete",
          entityType: "comment",
          entityId: "c1",
          vector: { bob: -1 },
        }),
        /vector/,
      ],
      [env("hello", { protocol: 1, roomId: "", token: "", cursor: 0 }), /roomId/],
    ];
    for (const [text, error] of cases) {
      const result = parseClientMessage(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(error);
    }
  });
});

describe("log entries on the wire", () => {
  it("round-trip through a change message", () => {
    const entry: LogEntry = {
      seq: 4,
      messageId: "m",
      userId: "ann",
      timestamp: 2,
      operation: "upsert",
      entityType: "comment",
      entityId: "c1",
      entity: comment("c1"),
      vector: { ann: 1 },
    };
    const message = changeFromEntry(entry);
    expect(parseServerMessage(JSON.stringify(message)).ok).toBe(true);
    expect(entryFromChange(message)).toEqual(entry);
  });
});

describe("Emitter", () => {
  it("isolates a throwing listener and supports off/once", () => {
    const emitter = new Emitter<{ x: [number] }>();
    const errors: unknown[] = [];
    emitter.onListenerError = (e) => errors.push(e);
    const seen: number[] = [];
    emitter.on("x", () => {
      throw new Error("boom");
    });
    const off = emitter.on("x", (n) => seen.push(n));
    emitter.once("x", (n) => seen.push(n * 10));
    emitter.emit("x", 1);
    off();
    emitter.emit("x", 2);
    expect(seen).toEqual([1, 10]);
    expect(errors).toHaveLength(2);
  });
});
