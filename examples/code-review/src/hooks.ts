// The React hooks the components read the store with. Apart from kalphite.ts (the session's
// wiring, loaded on its own after the first paint), so the page's first script stays small.
export {
  useEntity,
  useLiveGroups,
  useLiveQuery,
  useSignalValue,
  useValue,
} from "kalphite/react";
