import { Chart, Testing } from "cdk8s";
import { MeshMutualTls } from "../../../components/mesh/mutual-tls";
import { findOne } from "../../support/objects";

function chart(): Chart {
  return new Chart(Testing.app(), "test");
}

describe("MeshMutualTls", () => {
  it("relaxes only the named ports of the selected pods, and says why", () => {
    const c = chart();
    new MeshMutualTls(c, "Mtls").addException({ namespace: "data", selector: { app: "legacy" }, ports: [9000, 8000], reason: "legacy client without a sidecar" });
    const pa = findOne(c.toJson(), "PeerAuthentication", "mtls-exception-legacy", "data");
    expect(pa.spec.mtls).toEqual({ mode: "STRICT" });
    expect(pa.spec.portLevelMtls).toEqual({ "8000": { mode: "PERMISSIVE" }, "9000": { mode: "PERMISSIVE" } });
    expect(pa.metadata.annotations?.["stratum.dev/mtls-exception"]).toBe("legacy client without a sidecar");
  });

  it("refuses an exception without a reason, a selector or ports, naming each", () => {
    const mtls = new MeshMutualTls(chart(), "Mtls");
    expect(() => mtls.addException({ namespace: "data", selector: {}, ports: [], reason: "because" }))
      .toThrow('mTLS exception in data: reason must explain the exception in words (got "because"); selector must select some pods; a namespace-wide exception is not allowed; ports must name at least one port');
    expect(() => mtls.addException({ namespace: "data", selector: { app: "x" }, ports: [70000], reason: "a reason in words" })).toThrow("ports must be 1-65535 (got 70000)");
  });

  it("refuses the same exception twice", () => {
    const mtls = new MeshMutualTls(chart(), "Mtls");
    const e = { namespace: "data", selector: { app: "x" }, ports: [1], reason: "a reason in words" };
    mtls.addException(e);
    expect(() => mtls.addException(e)).toThrow("mTLS exception data/mtls-exception-x is declared twice");
  });
});
