import type { System } from "../workload.js";
import { floor, signalsBaseline } from "./baseline.js";
import { kalphite } from "./kalphite.js";
import { legend } from "./legend.js";
import { mobx } from "./mobx.js";
import { tanstack } from "./tanstack.js";
import { tinybase } from "./tinybase.js";

/** Every system, by the name `child.ts` takes. */
export const systems: Record<string, () => System> = {
  floor,
  signals: signalsBaseline,
  kalphite,
  tanstack,
  tinybase,
  legend,
  mobx,
};
