export type { Clock } from "../internal/clock.js";
export { MemoryFlushEngine } from "./memory-flush-engine.js";
export type {
  ChangeSource,
  FlushChange,
  FlushConfig,
  FlushOptions,
  FlushEngineEvents,
  FlushEngineOptions,
  FlushEvent,
  FlushState,
  FlushTarget,
} from "./types.js";
