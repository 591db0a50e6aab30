import { randomUUID } from "node:crypto";
import { EventCatalog } from "../../../components/events/catalog";
import { SAMPLE_EVENTS } from "../../../components/events/sample-catalog";
import { TASK_EVENTS } from "../../../components/events/task-events";

/** The sample catalog as the processor receives it (the bundle the events component generates). */
export const sampleCatalog = new EventCatalog([...SAMPLE_EVENTS, ...TASK_EVENTS]);
export const bundle = sampleCatalog.schemaBundle();

/** A valid CloudEvent of a catalog type (the catalog example as data). */
export function validEvent(type: string, overrides: Record<string, unknown> = {}): Record<string, any> {
  const def = sampleCatalog.get(type);
  return {
    specversion: "1.0",
    id: randomUUID(),
    source: `/services/${def.producers[0]}`,
    type,
    time: "2024-05-01T12:00:00Z",
    datacontenttype: "application/json",
    data: JSON.parse(JSON.stringify(def.example)),
    ...overrides,
  };
}

/** POSTs a body and returns status and parsed JSON. */
export async function post(port: number, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  // the content types the sidecar sends: application/json for a bulk delivery, a structured CloudEvent otherwise
  const type = path.startsWith("/bulk/") ? "application/json" : "application/cloudevents+json";
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body, headers: { "content-type": type, ...headers } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

export async function get(port: number, path: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/** Sums a Prometheus counter family across labels (optionally filtered). */
export function metricSum(text: string, name: string, filter: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries((m[3] ?? "").split(",").filter(Boolean).map((kv) => { const [k, v] = kv.split("="); return [k, v.replace(/^"|"$/g, "")]; }));
    if (Object.entries(filter).every(([k, v]) => labels[k] === v)) sum += Number(m[4]);
  }
  return sum;
}
