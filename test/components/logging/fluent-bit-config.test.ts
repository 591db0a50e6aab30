import { FluentBitConfig, fluentBitConfigProblems, renderSections, tagMatches } from "../../../components/logging/fluent-bit-config";

const ok: FluentBitConfig = {
  service: { kind: "SERVICE", properties: [["Flush", 1], ["Parsers_File", "a.conf"], ["Parsers_File", "b.conf"]] },
  inputs: [{ kind: "INPUT", properties: [["Name", "tail"], ["Tag", "kube.*"], ["multiline.parser", "cri, docker"]] }],
  filters: [{ kind: "FILTER", properties: [["Name", "parser"], ["Match", "kube.var.log.*"], ["Parser", "nginx"]] }],
  outputs: [{ kind: "OUTPUT", properties: [["Name", "es"], ["Match", "kube.*"], ["tls", true]] }],
  parsers: [{ kind: "PARSER", properties: [["Name", "nginx"], ["Format", "regex"]] }],
};

describe("Fluent Bit configuration", () => {
  it("renders the classic format with aligned keys and On/Off booleans", () => {
    expect(renderSections(ok.outputs)).toBe("[OUTPUT]\n    Name  es\n    Match kube.*\n    tls   On\n");
  });

  it("matches tags the way Fluent Bit does", () => {
    expect(tagMatches("kube.*", "kube.var.log.containers.a.log")).toBe(true);
    expect(tagMatches("host.*", "kube.x")).toBe(false);
  });

  it("accepts a pipeline whose matches and parsers resolve", () => {
    expect(fluentBitConfigProblems(ok)).toEqual([]);
  });

  it("names every mistake: unreachable outputs, missing tags, unknown parsers, repeated keys, misplaced sections", () => {
    const bad: FluentBitConfig = {
      ...ok,
      inputs: [...ok.inputs, { kind: "INPUT", properties: [["Name", "systemd"]] }],
      filters: [{ kind: "FILTER", properties: [["Name", "parser"], ["Match", "kube.*"], ["Parser", "apache2"], ["Key_Name", "log"], ["Key_Name", "msg"]] }],
      outputs: [{ kind: "OUTPUT", properties: [["Name", "es"], ["Match", "host.*"]] }, { kind: "FILTER", properties: [["Name", "stdout"]] }],
    };
    expect(fluentBitConfigProblems(bad)).toEqual([
      "filters[0]: 'Key_Name' is set twice",
      "outputs[1]: a [FILTER] section does not belong in outputs",
      "inputs[1] (systemd): Tag is required, filters and outputs match on it",
      "outputs[0] (es): Match 'host.*' matches no input tag (kube.*)",
      "outputs[1] (stdout): Match or Match_Regex is required",
      "filters[0]: parser 'apache2' is neither built in nor defined in parsers",
    ]);
  });

  it("refuses a value that would break the line-based format", () => {
    const bad: FluentBitConfig = { ...ok, outputs: [{ kind: "OUTPUT", properties: [["Name", "es"], ["Match", "kube.*"], ["Host", "a\nb"]] }] };
    expect(fluentBitConfigProblems(bad)).toEqual(["outputs[0]: 'Host' must be one line"]);
  });
});
