import { existsSync } from "node:fs";
import { readFile, readlink, realpath, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../log/logger.js";

/** What /proc says about a process: its command name, state letter (Z: zombie) and parent. */
interface ProcessInfo {
  comm: string;
  state: string;
  ppid: number;
}

async function processInfo(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const close = stat.lastIndexOf(")");
    const [state = "", ppid = "0"] = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(stat.indexOf("(") + 1, close), state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Gone, or dead and waiting to be reaped: either way it holds no port, file or shared memory. */
async function isGone(pid: number): Promise<boolean> {
  const info = await processInfo(pid);
  return info === undefined || info.state === "Z";
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await isGone(pid))) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Whether `pid` runs in `databaseDir`: the postmaster changes into its data folder; its command line names it too. */
async function servesFolder(pid: number, databaseDir: string): Promise<boolean> {
  const wanted = await realpath(databaseDir);
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd !== undefined) return cwd === wanted;
  const args = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
  const dir = args[args.indexOf("-D") + 1];
  return args.includes("-D") && dir !== undefined && path.resolve(dir) === wanted;
}

/** One postgres server per signal, each given a while: fast shutdown, then immediate (it stops its backends too), then SIGKILL. */
const STOP_STEPS: Array<[NodeJS.Signals, number]> = [["SIGINT", 10_000], ["SIGQUIT", 5_000], ["SIGKILL", 2_000]];

/**
 * Makes way for the embedded server when `databaseDir/postmaster.pid` is
 * left from an earlier run, which PostgreSQL would otherwise refuse to start
 * over ("lock file already exists"):
 * - its PID is gone: nothing to do, PostgreSQL replaces a stale file itself;
 * - dead but not yet reaped (the whole process group was killed), or the PID
 *   now belongs to another program: the file is stale and is removed;
 * - a postgres serving this folder whose parent is a node process: another
 *   orchestrator (or a test run) uses it, so start-up stops;
 * - a postgres serving this folder whose parent is gone (the orchestrator
 *   that started it was killed, e.g. by the OOM killer): it is stopped.
 * Does nothing where there is no /proc to tell these apart.
 * @throws Error naming the process when the folder is in use, or cannot be freed.
 */
export async function clearLeftoverPostmaster(databaseDir: string, logger: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, "postmaster.pid");
  const firstLine = (await readFile(pidFile, "utf8").catch(() => "")).split("\n")[0] ?? "";
  const pid = Number.parseInt(firstLine, 10);
  if (!(pid > 0) || !existsSync("/proc/self/stat")) return;
  const info = await processInfo(pid);
  if (info === undefined) return;
  const removeStale = async (why: string) => {
    // Only while it still names that PID: a server started meanwhile owns a new file.
    if (!(await readFile(pidFile, "utf8").catch(() => "")).startsWith(`${pid}\n`)) return;
    logger.warn({ postmasterPid: pid, pidFile }, `removing a stale postmaster.pid: ${why}`);
    await rm(pidFile, { force: true });
  };
  if (info.state === "Z") {
    await removeStale("its postmaster is dead, not yet reaped");
    return;
  }
  if (info.comm !== "postgres" || !(await servesFolder(pid, databaseDir))) {
    await removeStale(`PID ${pid} is now ${info.comm}, not this folder's postmaster`);
    return;
  }
  const parent = info.ppid > 1 ? await processInfo(info.ppid) : undefined;
  if (parent && /^node/.test(parent.comm)) {
    throw new Error(`${databaseDir} is in use by PostgreSQL (PID ${pid}) of a running process (PID ${info.ppid}, ${parent.comm}): stop that one first or use another DATA_DIR`);
  }
  logger.warn({ postmasterPid: pid, databaseDir }, "stopping the embedded PostgreSQL an earlier run left behind");
  for (const [signal, waitMs] of STOP_STEPS) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
    if (await waitUntilGone(pid, waitMs)) {
      // A postmaster that could not clean up (SIGKILL) leaves its file behind, naming a PID that is dead or a zombie.
      await removeStale("its postmaster was killed");
      logger.info({ postmasterPid: pid, signal }, "the embedded PostgreSQL an earlier run left behind is stopped");
      return;
    }
  }
  throw new Error(`could not stop PostgreSQL (PID ${pid}) that an earlier run left running in ${databaseDir}`);
}
