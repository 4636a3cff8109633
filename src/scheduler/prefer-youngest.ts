/**
 * Which of an owner's streams to take when it must give some up (a join, a
 * drain, a return): the plan decides how many, this decides which. Among an
 * owner's streams that it keeps or gives up, those given up become the ones
 * that started most recently (the highest grant epochs): a stream that has
 * run for a while has warmed up, and its new owner would need a whole
 * identification window before it names a song again; a young one has lost
 * little. Every instance's count is unchanged, as is every stream's status
 * (kept, moved, placed): only moved and kept streams of one owner trade
 * places, so the plan's invariants hold as they were.
 */

/**
 * @param owner  per stream: current owner instance index, or -1 (the plan's input)
 * @param target per stream: the plan's answer; changed in place
 * @param epochOf a stream's grant epoch (larger: started more recently); asked only for an owner's streams when it gives some up
 * @returns the streams whose target changed from their owner, ascending (the plan's `changed`, recomputed)
 */
export function preferYoungest(owner: Int32Array, target: Int32Array, epochOf: (stream: number) => number, changed: Int32Array): Int32Array {
  // Owners giving streams to another instance, with the streams moving away.
  const movingAway = new Map<number, number[]>();
  for (const s of changed) {
    const o = owner[s]!;
    if (o >= 0 && target[s]! !== o && target[s]! >= 0) (movingAway.get(o) ?? movingAway.set(o, []).get(o)!).push(s);
  }
  if (movingAway.size === 0) return changed;
  const kept = new Map<number, number[]>();
  for (let s = 0; s < owner.length; s++) {
    const o = owner[s]!;
    if (movingAway.has(o) && target[s] === o) (kept.get(o) ?? kept.set(o, []).get(o)!).push(s);
  }
  let swapped = false;
  for (const [o, moving] of movingAway) {
    const staying = kept.get(o) ?? [];
    // Already the youngest (the common case once moves have followed this rule): nothing to trade.
    let oldestMoving = Infinity;
    for (const m of moving) oldestMoving = Math.min(oldestMoving, epochOf(m));
    let youngestStaying = -Infinity;
    for (const k of staying) youngestStaying = Math.max(youngestStaying, epochOf(k));
    if (oldestMoving > youngestStaying) continue;
    const all = moving.concat(staying).sort((x, y) => epochOf(y) - epochOf(x) || x - y);
    const destinations = moving.map((s) => target[s]!);
    // The youngest |moving| streams take the moving streams' destinations; the rest stay.
    all.forEach((s, i) => {
      const next = i < destinations.length ? destinations[i]! : o;
      if (target[s] !== next) swapped = true;
      target[s] = next;
    });
  }
  if (!swapped) return changed;
  const out: number[] = [];
  for (let s = 0; s < owner.length; s++) if (target[s] !== owner[s]) out.push(s);
  return Int32Array.from(out);
}
