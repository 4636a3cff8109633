/** The heartbeat probe (bench/lib/heartbeat-probe.ts) as a child process, with its window controls. */
import { spawnBenchChild, type NodeChild } from "./process.js";
import { type Summary } from "./report.js";
import { sleep } from "../../test/helpers/wait.js";

export interface ProbeResult {
  rtt: Summary;
  acked: number;
  lost: number;
  /** The probe process's own event-loop delay over the window (ms). */
  loopP99: number;
  loopMax: number;
}

export interface ProbeChild extends NodeChild {
  startWindow(): void;
  /** Ends the window and resolves with what the probe measured in it. */
  endWindow(): Promise<ProbeResult>;
}

/** Starts `count` probe instances against `address`; resolves once they are welcome and no assignment reached them for `settleMs`. */
export async function startProbe(address: string, count: number, prefix: string, capacity: number, intervalMs: number, settleMs: number): Promise<ProbeChild> {
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  let deliver: (r: ProbeResult) => void = () => undefined;
  const node = spawnBenchChild("bench/lib/heartbeat-probe.ts", {
    env: { PROBE_ADDRESS: address, PROBE_COUNT: String(count), PROBE_PREFIX: prefix, PROBE_CAPACITY: String(capacity), PROBE_INTERVAL_MS: String(intervalMs), PROBE_SETTLE_MS: String(settleMs) },
    onLine: (line) => {
      if (line.trim() === "probe ready") ready();
      if (line.startsWith("PROBE_RESULT ")) deliver(JSON.parse(line.slice("PROBE_RESULT ".length)) as ProbeResult);
    },
  });
  const failed = (what: string) =>
    node.exited.then(({ code }) => {
      throw new Error(`heartbeat probe exited with code ${code} ${what}:\n${node.output()}`);
    });
  await Promise.race([
    isReady,
    failed("before it was ready"),
    sleep(120_000).then(() => {
      throw new Error(`heartbeat probe not ready within 120 s:\n${node.output()}`);
    }),
  ]);
  return {
    ...node,
    startWindow: () => node.child.kill("SIGUSR1"),
    endWindow: () => {
      const result = new Promise<ProbeResult>((resolve) => (deliver = resolve));
      node.child.kill("SIGUSR2");
      return Promise.race([result, failed("before reporting")]);
    },
  };
}
