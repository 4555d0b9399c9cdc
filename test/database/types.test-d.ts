import { describe, expectTypeOf, it } from "vitest";
import { FrontendDatabase, type Persistence, persist } from "../../src/database/index.js";
import { KalphiteStore } from "../../src/index.js";
import { type Comment, Entity } from "../fixtures/schema.js";

describe("database types", () => {
  it("infers the entity type from the schema", () => {
    const db = new FrontendDatabase({ dbName: "memory://", schema: Entity });
    expectTypeOf(db.getById("comment", "c1")).resolves.toEqualTypeOf<Entity | undefined>();
    expectTypeOf(db.query<Comment>("comment", (c) => c.data.lineNumber > 1)).resolves.toEqualTypeOf<
      Comment[]
    >();
    expectTypeOf(db.getMeta<number>("cursor")).resolves.toEqualTypeOf<number | undefined>();
    expectTypeOf(persist(KalphiteStore(Entity), db)).resolves.toEqualTypeOf<Persistence>();
    // @ts-expect-error: an object missing type, updatedAt and data is not an entity
    db.upsert("comment", "c1", { id: "c1" });
  });
});
