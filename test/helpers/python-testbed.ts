/**
 * What the Python example's tests against a plaintext orchestrator share: the toolchain check, one
 * database emptied between tests, an orchestrator with a catalog, the Python processes and
 * raw sessions a test started (killed and closed after it).
 */
import pg from "pg";
import { AdminClient } from "./admin-client.js";
import { freePort } from "./process.js";
import { checkToolchain, PythonInstance } from "./python-instance.js";
import { RawSession } from "./raw-session.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";
import { startTestOrchestrator, type TestOrchestrator } from "./test-orchestrator.js";

export class PythonTestBed {
  database?: TestDatabase;
  orchestrator?: TestOrchestrator;
  /** The orchestrator's environment, for starting it again on the same port and database. */
  env: Record<string, string> = {};
  readonly #workers: PythonInstance[] = [];
  readonly #sessions: RawSession[] = [];

  /** `base`: the orchestrator's settings (short heartbeat, lease and grace). */
  constructor(private readonly base: Record<string, string>) {}

  /** For before(): the toolchain check and the database. */
  async setUp(): Promise<void> {
    checkToolchain();
    this.database = await createTestDatabase();
  }

  /** For afterEach(): kills the workers, closes the sessions and the orchestrator, empties the tables. */
  async reset(): Promise<void> {
    for (const w of this.#workers.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
    for (const s of this.#sessions.splice(0)) s.close();
    if (!this.orchestrator) return;
    await this.orchestrator.close();
    this.orchestrator = undefined;
    // Each test starts from an empty fleet and catalog.
    const c = new pg.Client({ connectionString: this.database!.url });
    await c.connect();
    try {
      await c.query("truncate orchestrator.events, orchestrator.assignments, orchestrator.streams, orchestrator.instances");
    } finally {
      await c.end();
    }
  }

  /** For after(). */
  async tearDown(): Promise<void> {
    await this.database?.drop();
  }

  /** An orchestrator on a free port with `ids` in its catalog. */
  async boot(ids: string[]): Promise<TestOrchestrator> {
    this.env = { ...this.base, GRPC_PORT: String(await freePort()) };
    const o = await this.startAgain();
    if (ids.length) {
      const admin = new AdminClient(o.grpcAddress);
      await admin.upsert(ids.map((id) => ({ id })));
      admin.close();
    }
    return o;
  }

  /** An orchestrator with the last boot's settings and database (after the previous one stopped). */
  async startAgain(): Promise<TestOrchestrator> {
    this.orchestrator = await startTestOrchestrator(this.env, this.database);
    return this.orchestrator;
  }

  python(workerEnv: Record<string, string>): PythonInstance {
    const w = new PythonInstance(workerEnv);
    this.#workers.push(w);
    return w;
  }

  /** An instance that acks everything and heartbeats every 300 ms. */
  rawSession(address: string, instanceId: string): RawSession {
    const s = new RawSession(address).autoAck();
    this.#sessions.push(s);
    s.hello({ instanceId, capacity: 10 });
    s.heartbeatEvery(300);
    return s;
  }

  /** The details of the orchestrator's audit events of `kind` for `instanceId`, oldest first. */
  async events(kind: string, instanceId: string): Promise<Array<Record<string, unknown>>> {
    const rows = await this.orchestrator!.app.db
      .selectFrom("events")
      .select("detail")
      .where("kind", "=", kind)
      .where("instance_id", "=", instanceId)
      .orderBy("id")
      .execute();
    return rows.map((row) => row.detail as Record<string, unknown>);
  }
}
