import { KalphitePersistenceError } from "../core/index.js";

/** The content of a backup Blob (JSON). */
export interface BackupContent {
  format: typeof BACKUP_FORMAT;
  formatVersion: 1;
  /** The database's schema version (highest applied migration) when it was backed up. */
  schemaVersion: number;
  createdAt: number;
  /** Every metadata entry except the schema version. */
  meta: Record<string, unknown>;
  /** Every stored entity, as stored. */
  entities: { type: string; id: string; entity: unknown }[];
}

export const BACKUP_FORMAT = "kalphite-backup";

const notABackup = (why: string) =>
  new KalphitePersistenceError(
    `This Blob is not a Kalphite backup (${why}); nothing was restored. Pass a Blob made by db.backup().`,
  );

/** Parses and checks a backup; throws a clear error, before anything is written, if it is not one. */
export async function readBackup(blob: Blob): Promise<BackupContent> {
  if (!blob || typeof (blob as Blob).text !== "function") throw notABackup("not a Blob");
  let parsed: unknown;
  try {
    parsed = JSON.parse(await blob.text());
  } catch {
    throw notABackup("not valid JSON: it is corrupted or in another format");
  }
  if (parsed === null || typeof parsed !== "object") throw notABackup("not a JSON object");
  const content = parsed as Partial<BackupContent>;
  if (content.format !== BACKUP_FORMAT)
    throw notABackup(`format is ${JSON.stringify(content.format)}`);
  if (content.formatVersion !== 1) {
    throw notABackup(
      `backup format version ${String(content.formatVersion)} is not supported by this Kalphite version`,
    );
  }
  if (!Number.isInteger(content.schemaVersion) || (content.schemaVersion as number) < 0) {
    throw notABackup("schemaVersion is missing");
  }
  if (content.meta === null || typeof content.meta !== "object" || Array.isArray(content.meta)) {
    throw notABackup("meta is missing");
  }
  if (!Array.isArray(content.entities)) throw notABackup("entities is missing");
  content.entities.forEach((row, index) => {
    if (
      row === null ||
      typeof row !== "object" ||
      typeof row.type !== "string" ||
      typeof row.id !== "string" ||
      row.entity === null ||
      typeof row.entity !== "object"
    ) {
      throw notABackup(`entity row ${index} is malformed`);
    }
  });
  return content as BackupContent;
}
