import { expectTypeOf, test } from "vitest";
import {
  KalphiteAuthError,
  KalphiteSyncError,
  type KalphiteSyncErrorCode,
  type ServerErrorCode,
} from "../../src/index.js";
import type { SyncErrorCode } from "../../src/protocol/index.js";

test("a sync error's code is one of a known union, not any string", () => {
  expectTypeOf(new KalphiteSyncError("x").code).toEqualTypeOf<KalphiteSyncErrorCode | undefined>();
  expectTypeOf(new KalphiteAuthError("x", { code: "auth-failed" }).code).toEqualTypeOf<
    KalphiteSyncErrorCode | undefined
  >();
  // @ts-expect-error: not a code
  new KalphiteSyncError("x", { code: "no-such-code" });
  // The wire's codes are the server's.
  expectTypeOf<SyncErrorCode>().toEqualTypeOf<ServerErrorCode>();
  expectTypeOf<"rate-limited">().toExtend<KalphiteSyncErrorCode>();
  expectTypeOf<"bad-url">().not.toExtend<ServerErrorCode>();
});
