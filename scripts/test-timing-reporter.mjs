/**
 * A node:test reporter for scripts/test.ts: writes, as JSON, how many tests ran
 * (as the runner's own summary counts them) and how long each file's tests
 * took, so the script can print its timing line and start the slowest files
 * first next time, without reading (or changing) what node's reporter prints.
 * Plain JavaScript: node loads reporters before the tsx loader is in place.
 */
export default async function* timings(source) {
  let tests = "?";
  const files = {};
  for await (const { type, data } of source) {
    if ((type === "test:pass" || type === "test:fail") && data.nesting === 0 && data.file) {
      files[data.file] = (files[data.file] ?? 0) + (data.details?.duration_ms ?? 0);
    }
    const count = type === "test:diagnostic" ? /^tests (\d+)$/.exec(data.message ?? "") : null;
    if (count) tests = count[1];
  }
  yield JSON.stringify({ tests, files });
}
