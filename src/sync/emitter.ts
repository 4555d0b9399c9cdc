// The emitter is shared by the layers (src/internal); the sync engine's events use it.
export { Emitter } from "../internal/emitter.js";
