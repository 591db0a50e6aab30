import { App } from "cdk8s";
import { Construct } from "constructs";
import { PlatformComponent, PlatformContext, SyncWave } from "../../components/component";
import { dev } from "../../stacks/environments";
import { Platform } from "../../stacks/platform";

/** A component that records when its callbacks run and lets a test register more from inside them. */
class Probe extends PlatformComponent {
  constructor(scope: Construct, id: string, context: PlatformContext, register: (context: PlatformContext) => void) {
    super(scope, id, context, { name: id.toLowerCase(), syncWave: SyncWave.WORKLOADS });
    register(context);
  }
}

function platform(...registers: Array<(context: PlatformContext) => void>): Platform {
  const p = new Platform(new App({ outdir: "unused", recordConstructMetadata: false }), "dev", { environment: dev });
  registers.forEach((r, i) => p.add((s, c) => new Probe(s, `Probe${i}`, c, r)));
  return p;
}

describe("finalize phases", () => {
  it("run connect, observe, data-plane, derive in order, whatever the registration order", () => {
    const ran: string[] = [];
    const p = platform(
      (c) => {
        c.onFinalize(() => ran.push("derive"), "derive");
        c.onFinalize(() => ran.push("data-plane"), "data-plane");
      },
      (c) => c.onFinalize(() => ran.push("observe"), "observe"),
      (c) => c.onFinalize(() => {
        ran.push("connect");
        // a node added while connecting is there when observers look
        c.graph.addNode({ id: "late", kind: "component", namespace: "apps", serviceAccount: "late", selector: { app: "late" }, ports: [] });
        c.onFinalize(() => ran.push("connect, registered while connecting"));
      }),
    );
    p.finalize();
    expect(ran).toEqual(["connect", "connect, registered while connecting", "observe", "data-plane", "derive"]);
  });

  it("refuses a callback for a phase that has already run, instead of never running it", () => {
    const p = platform((c) => c.onFinalize(() => c.onFinalize(() => undefined, "connect"), "observe"));
    expect(() => p.finalize()).toThrow("onFinalize for phase 'connect' while 'observe' runs; it would never run");
  });
});
