/**
 * The processes of a PostgreSQL cluster, found from its data folder and /proc
 * (Linux), for tests that freeze, kill or clean up after a database server.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** The postmaster's PID, from the first line of `postmaster.pid` in a cluster's data folder; undefined when there is none. */
export function postmasterPid(databaseDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path.join(databaseDir, "postmaster.pid"), "utf8").split("\n")[0]!, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The PIDs whose parent is `pid` (a postmaster's backends and helpers), read from /proc. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces; the parent PID is the second field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Sends `signal` to the postmaster of the cluster in `databaseDir` and to
 * every process it started. The postmaster goes first on SIGSTOP, so that it
 * cannot start a backend after the children were listed.
 * @returns the PIDs signalled.
 */
export function signalCluster(databaseDir: string, signal: NodeJS.Signals): number[] {
  const postmaster = postmasterPid(databaseDir);
  if (postmaster === undefined) throw new Error(`no postmaster.pid in ${databaseDir}`);
  const send = (pid: number) => {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  };
  send(postmaster);
  const children = childrenOf(postmaster);
  children.forEach(send);
  return [postmaster, ...children];
}
