import { KalphitePersistenceError } from "../core/index.js";

/** What the lock needs of Node's file system module. */
interface Fs {
  closeSync(fd: number): void;
  mkdirSync(path: string, options: { recursive: true }): unknown;
  openSync(path: string, flags: "wx"): number;
  readFileSync(path: string, encoding: "utf8"): string;
  rmSync(path: string, options: { force: true }): void;
  writeSync(fd: number, text: string): number;
}

/**
 * `node:fs` in Node, without an import a browser bundler would try to resolve (this module is
 * part of kalphite/database, which runs in browsers too); undefined elsewhere.
 */
function nodeFs(): Fs | undefined {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof node?.getBuiltinModule === "function"
    ? (node.getBuiltinModule("node:fs") as Fs)
    : undefined;
}

/** This process's claim on a PGlite data directory. */
export interface DirLock {
  /** Gives the directory up; idempotent. */
  release(): void;
}

/**
 * Claims the PGlite data directory `dataDir` for this process with a lock file beside it
 * (`<dataDir>.lock`, holding the process id). PGlite takes no lock of its own, and two PGlite
 * instances on one directory (a second `npm start`, a script beside a running server) both write
 * and corrupt it; the second now fails here instead, naming the holder. A lock left by a process that is gone is taken over;
 * one held by a live process (this one included) never is. Returns undefined where there is no
 * `node:fs` to lock with.
 */
export function lockDataDir(dataDir: string, fs: Fs | undefined = nodeFs()): DirLock | undefined {
  if (fs === undefined) return undefined; // no file system to lock on (or a Node before 20.16)
  const { closeSync, mkdirSync, openSync, rmSync, writeSync } = fs;
  const dir = dataDir.replace(/[\\/]+$/, "");
  const file = `${dir}.lock`;
  // The lock sits beside the directory: its parent must exist (PGlite creates only the directory).
  const parent = dir.slice(0, Math.max(dir.lastIndexOf("/"), dir.lastIndexOf("\\")));
  if (parent !== "") mkdirSync(parent, { recursive: true });
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
      const holder = Number.parseInt(readText(fs, file), 10);
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
  // A process that exits without closing its database gives the directory up too.
  process.on("exit", release);
  return { release };
}

function readText(fs: Fs, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
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
