// The one token bucket under the server's rate limit and the client's pace.
import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/internal/token-bucket.js";

describe("TokenBucket", () => {
  it("starts full, refuses past the burst and earns `rate` tokens a second", () => {
    const bucket = new TokenBucket(10, 3);
    for (let i = 0; i < 3; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    bucket.refill(100); // 100 ms at 10/s: one token
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it("never holds more than the burst, however long it waited", () => {
    const bucket = new TokenBucket(10, 3, 0);
    bucket.refill(3_600_000);
    expect(bucket.tokens).toBe(3);
  });

  it("runs into debt with spend, and says how long until a whole token again", () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect(bucket.wait()).toBe(100);
    bucket.spend();
    expect(bucket.tokens).toBe(-1);
    expect(bucket.wait()).toBe(200);
    bucket.refill(200);
    expect(bucket.wait()).toBe(0);
  });
});
