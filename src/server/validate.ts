import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type Entity, KalphiteValidationError } from "../core/index.js";
import { validateEntity } from "../core/schema.js";
import { isRecord } from "../protocol/messages.js";

/**
 * The server's check of an entity a client sends: the schema when there is one, else the shape
 * every entity has (`id`, `type`, `updatedAt`), matching the change's type and id.
 *
 * @example const validate = entityValidator(schema); validate(entity, "comment", "c1");
 */
export function entityValidator(
  schema?: StandardSchemaV1,
): (entity: unknown, entityType: string, entityId: string) => Entity {
  if (schema)
    return (entity, entityType, entityId) =>
      validateEntity(schema as StandardSchemaV1<unknown, Entity>, entity, entityType, entityId);
  return (entity, entityType, entityId) => {
    if (!isRecord(entity)) {
      const got = entity === null ? "null" : Array.isArray(entity) ? "an array" : typeof entity;
      throw new KalphiteValidationError(`An entity must be a JSON object, not ${got}.`);
    }
    const e = entity as Partial<Entity>;
    if (e.type !== entityType)
      throw new KalphiteValidationError(
        `The entity's type "${String(e.type)}" does not match the change's entityType "${entityType}".`,
      );
    if (e.id !== entityId)
      throw new KalphiteValidationError(
        `The entity's id "${String(e.id)}" does not match the change's entityId "${entityId}".`,
      );
    if (typeof e.updatedAt !== "number" || !Number.isFinite(e.updatedAt))
      throw new KalphiteValidationError("An entity needs a finite numeric updatedAt.");
    return e as Entity;
  };
}
