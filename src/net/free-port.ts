import { mkdirSync, openSync, closeSync, statSync, utimesSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

// Below Linux's ephemeral range (32768-60999 by default): a port the kernel hands to an
// outgoing connection between our check and the child's bind would make the child fail
// with EADDRINUSE, which happens under heavy socket churn (many tests side by side).
const LOW = 20_000;
const HIGH = 32_767;
/**
 * Ports handed out on this machine, as files: a port is given to one caller (of any
 * process) at a time, for this long; after it, the port may be given again.
 */
const CLAIMS = path.join(tmpdir(), "finger-port-claims");
const CLAIM_MS = 10 * 60_000;

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** True when this process now holds the claim on `port` (a new claim, or one older than CLAIM_MS). */
function claim(port: number): boolean {
  const file = path.join(CLAIMS, String(port));
  try {
    closeSync(openSync(file, "wx"));
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < CLAIM_MS) return false;
      const now = new Date();
      utimesSync(file, now, now);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * A loopback TCP port nobody listens on right now, and that no other caller on
 * this machine was given in the last ten minutes, for servers that must be told
 * their port in advance (an embedded PostgreSQL, a child process): several test
 * processes picking ports at once must not pick the same one.
 */
export async function freePort(): Promise<number> {
  mkdirSync(CLAIMS, { recursive: true });
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (claim(port) && (await tryListen(port))) return port;
  }
  throw new Error(`no free loopback port found between ${LOW} and ${HIGH}`);
}
