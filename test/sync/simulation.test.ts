// The convergence proof: random clients, edits, faults and restarts over a simulated network;
// afterwards every store must equal the server and every acknowledged write must be stored.
// A failure prints `simulate(seed, strategy, clients, steps)`, which replays it exactly.
import fc from "fast-check";
import { describe, it } from "vitest";
import { simulate } from "./sim/simulate.js";

const RUNS = Number(process.env.KALPHITE_SIM_RUNS ?? 350);

describe("simulation: every client converges to the server", () => {
  for (const strategy of ["last-write-wins", "operational-transform", "manual"] as const) {
    it(`${strategy}: ${RUNS} random runs with loss, duplication, reordering and restarts`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.integer({ min: 2, max: 5 }),
          async (seed, clientCount) => {
            try {
              await simulate(seed, strategy, clientCount, 150);
            } catch (error) {
              throw new Error(
                `Replay with simulate(${seed}, "${strategy}", ${clientCount}, 150): ${(error as Error).message}`,
                { cause: error },
              );
            }
          },
        ),
        { numRuns: RUNS },
      );
    }, 300_000);
  }
});
