import { afterEach, beforeEach } from "node:test";
import { AdminClient, streamIds } from "./admin-client.js";
import { RawSession } from "./raw-session.js";
import { startTestOrchestrator, type TestOrchestrator } from "./test-orchestrator.js";

/** An orchestrator for each test, with a catalog, and the raw sessions a test opens on it. */
export interface RawFleet {
  readonly orchestrator: TestOrchestrator;
  readonly admin: AdminClient;
  /** Opens a session that acknowledges every assignment and says hello with `capacity`. */
  open(id: string, capacity?: number): RawSession;
}

/**
 * Registers beforeEach/afterEach in the calling describe: a fresh orchestrator
 * configured with `env` and `streams` catalog streams before each test; every
 * session opened, the admin client and the orchestrator closed after it.
 */
export function useRawFleet(env: Record<string, string>, streams: number): RawFleet {
  let orchestrator: TestOrchestrator | undefined;
  let admin: AdminClient | undefined;
  const sessions: RawSession[] = [];
  beforeEach(async () => {
    orchestrator = await startTestOrchestrator(env);
    admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert(streamIds(streams).map((id) => ({ id })));
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    admin?.close();
    await orchestrator?.close();
  });
  return {
    get orchestrator() {
      return orchestrator!;
    },
    get admin() {
      return admin!;
    },
    open(id, capacity = 20) {
      const s = new RawSession(orchestrator!.grpcAddress).autoAck();
      s.hello({ instanceId: id, capacity });
      sessions.push(s);
      return s;
    },
  };
}
