import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import {
  KalphiteProvider,
  useEntity,
  useKalphiteStore,
  useLiveQuery,
  useValue,
} from "../../src/react/index.js";
import { seededStore, type TestStore } from "./harness.js";

function Page({ store }: { store: TestStore }) {
  const whole = useKalphiteStore<TestStore>();
  const first = useEntity(store.comment, "c1");
  const open = useLiveQuery(() => store.comment.live.where((c) => c.data.status === "open"));
  const reviews = useValue(() => store.review.length, [store]);
  return (
    <p>
      {whole.comment.length}/{first?.id}/{open.length}/{reviews}
    </p>
  );
}

describe("server rendering", () => {
  it("renders the store's current contents without subscribing", () => {
    const store = seededStore();
    const html = renderToString(
      <KalphiteProvider store={store}>
        <Page store={store} />
      </KalphiteProvider>,
    );
    expect(html).toBe("<p>5<!-- -->/<!-- -->c1<!-- -->/<!-- -->3<!-- -->/<!-- -->1</p>");
  });
});
