// Who may join which room, and what a change must be before it is queued for storage.
import { Buffer } from "node:buffer";
import type { Entity } from "../../core/index.js";
import {
  type HelloMessage,
  PROTOCOL_VERSION,
  type SyncErrorCode,
} from "../../protocol/messages.js";
import type { Authenticator, Identity } from "../auth.js";

/** A refusal: the error to send and, when it ends the connection, the close code. */
export interface Refusal {
  code: SyncErrorCode;
  message: string;
  close?: { code: number; reason: string };
}

/**
 * Decides whether a hello is admitted: the protocol version, the token, the user it names and
 * the room it may join.
 *
 * @example const result = await admit(hello, authenticate); if ("refused" in result) refuse(result.refused);
 */
export async function admit(
  hello: HelloMessage,
  authenticate: Authenticator,
): Promise<{ identity: Identity } | { refused: Refusal }> {
  const { protocol, roomId, token } = hello.payload;
  if (protocol !== PROTOCOL_VERSION)
    return {
      refused: {
        code: "unsupported-protocol",
        message: `This server speaks protocol ${PROTOCOL_VERSION}, the client ${protocol}: upgrade kalphite on both sides to the same version.`,
        close: { code: 4000, reason: "unsupported protocol" },
      },
    };
  let identity: Identity | undefined;
  try {
    identity = await authenticate({ token, userId: hello.userId, roomId });
  } catch {
    identity = undefined;
  }
  if (!identity)
    return {
      refused: {
        code: "auth-failed",
        message:
          "Authentication failed: the token is missing, forged or expired. Mint one with signToken() using the server's KALPHITE_SECRET.",
        close: { code: 4001, reason: "authentication failed" },
      },
    };
  if (identity.userId !== hello.userId)
    return {
      refused: {
        code: "forbidden-user",
        message: `The token is for user "${identity.userId}" but the client says "${hello.userId}": set userId to the token's user.`,
        close: { code: 4003, reason: "user mismatch" },
      },
    };
  if (identity.rooms && !identity.rooms.includes(roomId) && !identity.rooms.includes("*"))
    return {
      refused: {
        code: "forbidden-room",
        message: `User "${identity.userId}" may not join room "${roomId}": mint a token that lists it.`,
        close: { code: 4003, reason: "room not allowed" },
      },
    };
  return { identity };
}

/**
 * The depth of the deepest nesting of objects and arrays in `value` (a flat object is 1), or
 * `limit + 1` as soon as it is deeper than `limit`. Iterative: a hostile value cannot overflow
 * the stack.
 *
 * @example depthOf({ a: { b: [1] } }, 64) // 3
 */
export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== "object") continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return limit + 1;
    for (const child of Array.isArray(node) ? node : Object.values(node))
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return deepest;
}

/** A change that can never be stored, and why; the client must drop it, not resend it. */
export interface PermanentRefusal {
  code: SyncErrorCode;
  message: string;
}

/**
 * Checks that an entity can ever be stored and sent: its nesting within `maxDepth`, its JSON
 * within `maxEntityBytes`. Returns the refusal, or undefined.
 *
 * @example const refused = storable(entity, { maxDepth: 64, maxEntityBytes: 1 << 20 });
 */
export function storable(
  entity: Entity,
  limits: { maxDepth: number; maxEntityBytes: number },
): PermanentRefusal | undefined {
  const depth = depthOf(entity, limits.maxDepth);
  if (depth > limits.maxDepth)
    return {
      code: "entity-too-deep",
      message: `${entity.type} "${entity.id}" is nested deeper than the server's limit of ${limits.maxDepth} levels of objects and arrays: it can never be stored. Flatten it.`,
    };
  const bytes = Buffer.byteLength(JSON.stringify(entity));
  if (bytes > limits.maxEntityBytes)
    return {
      code: "message-too-large",
      message: `${entity.type} "${entity.id}" is ${bytes} bytes as stored; the server's limit is ${limits.maxEntityBytes}: it can never be stored. Split it.`,
    };
  return undefined;
}
