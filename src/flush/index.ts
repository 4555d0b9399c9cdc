export type { Clock } from "../internal/clock.js";
export { MemoryFlushEngine } from "./memory-flush-engine.js";
export type {
  ChangeSource,
  FlushChange,
  FlushConfig,
  FlushEngineEvents,
  FlushEngineOptions,
  FlushEvent,
  FlushOptions,
  FlushState,
  FlushTarget,
} from "./types.js";
