/**
 * A node:test reporter for scripts/test.ts: writes only how many tests ran, as
 * the runner's own summary counts them, so the script can print its timing line
 * without reading (or changing) what the other reporter prints. Plain JavaScript:
 * node loads reporters before the tsx loader is in place.
 */
export default async function* countTests(source) {
  let tests = "?";
  for await (const event of source) {
    const m = event.type === "test:diagnostic" ? /^tests (\d+)$/.exec(event.data.message ?? "") : null;
    if (m) tests = m[1];
  }
  yield `${tests}\n`;
}
