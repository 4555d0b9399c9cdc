// The entity the tabs' tests store: a note with a text.
import { type } from "arktype";

export const Entity = type({
  id: "string",
  type: "'note'",
  updatedAt: "number",
  data: { text: "string" },
});
export type Entity = typeof Entity.infer;

export const note = (id: string, text: string, updatedAt = 1): Entity => ({
  id,
  type: "note",
  updatedAt,
  data: { text },
});
