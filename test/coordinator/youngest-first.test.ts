import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { useHarness } from "../helpers/coordinator-harness.js";

const spec = (id: string, enabled: boolean) => ({ id, url: `http://radio.test/${id}`, name: id, metadata: {}, enabled });

describe("when an instance must give streams up, it gives up its youngest", () => {
  const harness = useHarness();

  test("a join takes the streams its owner started last, not the ones that ran longest", async () => {
    const { h } = harness;
    const [a] = await h.startWith(10, "a");
    assert.equal(a.owned().size, 10);
    // s-000 and s-001 restart on a (off, then on again): now its youngest, though first in the catalog.
    await h.writeCatalog([spec("s-000", false), spec("s-001", false)]);
    await h.settle();
    await h.writeCatalog([spec("s-000", true), spec("s-001", true)]);
    await h.settle();
    const epochs = a.owned();
    const youngest = [...epochs].sort((x, y) => y[1] - x[1]).slice(0, 5).map(([id]) => id).sort();
    assert.ok(youngest.includes("s-000") && youngest.includes("s-001"));
    const b = await h.connect("b");
    await h.advance(2_000);
    assert.deepEqual([...b.owned().keys()].sort(), youngest, "b got the five a had started last");
  });
});
