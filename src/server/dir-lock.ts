import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { KalphitePersistenceError } from "../core/index.js";

/** This process's claim on a PGlite data directory. */
export interface DirLock {
  /** Gives the directory up; idempotent. */
  release(): void;
}

/**
 * Claims `dataDir` for this process with a lock file beside it (`<dataDir>.lock`, holding the
 * process id). PGlite takes no lock of its own, and two PGlite instances on one directory (a
 * second `npm start`, a script beside a running server) both write and corrupt it; the second
 * now fails here instead, naming the holder. A lock left by a process that is gone is taken over;
 * one held by a live process (this one included) never is.
 */
export function lockDataDir(dataDir: string): DirLock {
  const file = `${dataDir.replace(/[\\/]+$/, "")}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, "wx");
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const holder = Number.parseInt(readText(file), 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new KalphitePersistenceError(
          `The data directory "${dataDir}" is in use by process ${holder}${holder === process.pid ? " (this one)" : ""}: two PGlite instances on one directory corrupt it. Stop that process, or use another dataDir. If no such process runs Kalphite, delete ${file}.`,
        );
      }
      rmSync(file, { force: true }); // its process is gone
    }
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off("exit", release);
    rmSync(file, { force: true });
  };
  // A process that exits without closing its storage gives the directory up too.
  process.on("exit", release);
  return { release };
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
