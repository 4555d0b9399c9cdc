// The rate limit charges by when a client sent, bounded by the server's clock: a backlog the
// server caused is not a flood, and a flood is still refused however it lies about time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/server/hub/rate-limit.js";

const limit = { messagesPerSecond: 200, burst: 400 };

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("TokenBucket", () => {
  it("does not refuse a fair pace that arrives all at once after a 15 s server stall", () => {
    const server = clock();
    const bucket = new TokenBucket(limit, server.now);
    const sentFrom = server.now(); // the client's clock agrees with the server's here
    server.advance(15_000); // the server was stopped; 50/s kept being sent meanwhile
    for (let i = 0; i < 750; i++) expect(bucket.take(sentFrom + i * 20)).toBe(true);
  });

  it("does the same when the client's clock is an hour off either way", () => {
    for (const offset of [-3_600_000, 3_600_000]) {
      const server = clock();
      const bucket = new TokenBucket(limit, server.now);
      const sentFrom = server.now() + offset;
      bucket.take(sentFrom); // hello
      server.advance(15_000);
      for (let i = 1; i <= 750; i++) expect(bucket.take(sentFrom + i * 20)).toBe(true);
    }
  });

  it("accepts an outbox of old changes resent at a fair pace (their times go backwards)", () => {
    const server = clock();
    const bucket = new TokenBucket(limit, server.now);
    bucket.take(server.now()); // hello, now
    const writtenOffline = server.now() - 86_400_000;
    for (let i = 0; i < 3_000; i++) {
      server.advance(1_000 / 180); // the client's default pace
      expect(bucket.take(writtenOffline + i)).toBe(true);
    }
  });

  it("refuses a flood, whatever times it claims (at most twice the rate plus the burst)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: -1e9, max: 1e12 })), {
          minLength: 1,
          maxLength: 50,
        }),
        fc.integer({ min: 0, max: 10_000 }),
        (claims, span) => {
          const server = clock();
          const bucket = new TokenBucket(limit, server.now);
          let accepted = 0;
          const messages = 5_000;
          for (let i = 0; i < messages; i++) {
            if (i % 100 === 0) server.advance(span / 50);
            const claim = claims[i % claims.length] as number;
            if (bucket.take(server.now() + claim + i)) accepted++;
          }
          const elapsed = (messages / 100) * (span / 50);
          expect(accepted).toBeLessThanOrEqual(400 + Math.ceil((2 * 200 * elapsed) / 1000) + 1);
        },
      ),
    );
  });

  it("refuses a burst past its size when nothing else waited", () => {
    const server = clock();
    const bucket = new TokenBucket(limit, server.now);
    let accepted = 0;
    for (let i = 0; i < 1_000; i++) if (bucket.take(server.now())) accepted++;
    expect(accepted).toBe(400);
  });
});
