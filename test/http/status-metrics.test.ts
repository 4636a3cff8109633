import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { InstanceClient } from "../../src/client/index.js";
import { AdminClient, streamIds } from "../helpers/admin-client.js";
import { ledgerClient, StreamRunLog } from "../helpers/fleet-of-clients.js";
import { startTestOrchestrator, type TestOrchestrator } from "../helpers/test-orchestrator.js";
import { waitUntil } from "../helpers/wait.js";

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string; buckets?: Record<string, string> }>;
}
const parsePrometheus = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => Family[];

describe("HTTP /status, /instances and /metrics", () => {
  let orchestrator: TestOrchestrator;
  const clients: InstanceClient[] = [];

  before(async () => {
    orchestrator = await startTestOrchestrator({ HEARTBEAT_INTERVAL_MS: "200", LEASE_TTL_MS: "1000" });
    const admin = new AdminClient(orchestrator.grpcAddress);
    await admin.upsert([...streamIds(6).map((id) => ({ id })), { id: "off", enabled: false }]);
    admin.close();
    const ledger = new StreamRunLog();
    clients.push(ledgerClient(ledger, orchestrator.grpcAddress, "finger_app_1", 2), ledgerClient(ledger, orchestrator.grpcAddress, "finger_app_2", 3));
    for (const c of clients) c.start();
    await waitUntil(() => clients[0]!.running().size === 2 && clients[1]!.running().size === 3, 3_000, "2 and 3");
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await orchestrator.close();
  });

  test("/status keeps the legacy field names and matches the state", async () => {
    const body = (await (await fetch(`${orchestrator.httpBase}/status`)).json()) as { instances: Record<string, number>; streams: Record<string, number>; load_percentage: number };
    assert.equal(body.instances.total, 2);
    assert.equal(body.instances.active, 2);
    assert.equal(body.instances.total_capacity, 5);
    assert.equal(body.instances.current_load, 5);
    assert.equal(body.streams.assigned, 5);
    assert.equal(body.streams.available, 1);
    assert.equal(body.streams.total, 7);
    assert.equal(body.load_percentage, 100);
  });

  test("/instances lists server_id, max_streams, current_streams, status, registered_at, last_heartbeat", async () => {
    const body = (await (await fetch(`${orchestrator.httpBase}/instances`)).json()) as { instances: Array<Record<string, unknown>> };
    assert.deepEqual(
      body.instances.map((i) => [i.server_id, i.max_streams, i.current_streams, i.status, i.state]),
      [
        ["finger_app_1", 2, 2, "active", "connected"],
        ["finger_app_2", 3, 3, "active", "connected"],
      ],
    );
    for (const i of body.instances) {
      assert.match(String(i.registered_at), /^\d{4}-/);
      assert.ok(Date.now() - Date.parse(String(i.last_heartbeat)) < 2_000);
    }
  });

  test("/metrics parses as Prometheus text and its numbers match the state", async () => {
    // Scrapes until a couple of heartbeats arrived, then checks that scrape.
    let families = new Map<string, Family>();
    const heartbeats = () => Number(families.get("finger_heartbeats_received_total")?.metrics[0]?.value ?? 0);
    await waitUntil(
      async () => {
        const response = await fetch(`${orchestrator.httpBase}/metrics`);
        assert.match(response.headers.get("content-type") ?? "", /text\/plain/);
        families = new Map(parsePrometheus(await response.text()).map((f) => [f.name, f]));
        return heartbeats() >= 2;
      },
      3_000,
      "two heartbeats in /metrics",
      50,
    );
    const value = (name: string, labels: Record<string, string> = {}) => {
      const family = families.get(name);
      assert.ok(family, `${name} missing`);
      const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
      return Number(sample?.value);
    };
    assert.equal(value("finger_instances", { state: "connected" }), 2);
    assert.equal(value("finger_instances_connected"), 2);
    assert.equal(value("finger_streams", { state: "assigned" }), 5);
    assert.equal(value("finger_streams", { state: "unassigned" }), 1);
    assert.equal(value("finger_streams", { state: "disabled" }), 1);
    assert.equal(value("finger_capacity_total"), 5);
    assert.equal(value("finger_stream_moves_total", { reason: "new", action: "assigned" }), 5);
    assert.ok(value("finger_heartbeats_received_total") >= 2);
    assert.equal(value("finger_sessions_superseded_total"), 0);
    assert.equal(value("finger_sessions_queue_overflow_total"), 0);
    assert.equal(families.get("finger_scheduling_round_duration_seconds")?.type, "HISTOGRAM");
    assert.ok(Number(families.get("finger_scheduling_round_duration_seconds")!.metrics[0]!.count) >= 1);
    assert.ok(value("finger_process_resident_memory_bytes") > 0, "process metrics");
    assert.equal(value("finger_events_total", { kind: "instance.joined" }), 2);
  });
});
