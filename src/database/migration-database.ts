import type { Transaction } from "@electric-sql/pglite";
import type { Entity } from "../core/index.js";
import { ENTITIES } from "./sql.js";
import type { Database } from "./types.js";

/** The `Database` a migration gets: its transaction, plus raw entity helpers. */
export function migrationDatabase(tx: Transaction): Database {
  return {
    async query<R>(sql: string, params: unknown[] = []) {
      return (await tx.query<R>(sql, params)).rows;
    },
    async exec(sql: string) {
      await tx.exec(sql);
    },
    async entities(entityType?: string) {
      const result =
        entityType === undefined
          ? await tx.query<{ entity: Entity }>(`select entity from ${ENTITIES} order by type, id`)
          : await tx.query<{ entity: Entity }>(
              `select entity from ${ENTITIES} where type = $1 order by id`,
              [entityType],
            );
      return result.rows.map((row) => row.entity);
    },
    async put(entityType: string, entityId: string, value: unknown) {
      await tx.query(
        `insert into ${ENTITIES} (type, id, entity, size) values ($1, $2, $3::jsonb, octet_length($3::jsonb::text))
         on conflict (type, id) do update set entity = excluded.entity, size = excluded.size`,
        [entityType, entityId, JSON.stringify(value)],
      );
    },
    async remove(entityType: string, entityId: string) {
      const result = await tx.query(`delete from ${ENTITIES} where type = $1 and id = $2`, [
        entityType,
        entityId,
      ]);
      return (result.affectedRows ?? 0) > 0;
    },
  };
}
