import { consumerDeadLetterTopic, EventCatalog, schemaId, topicsOf } from "./catalog";

/** Renders the event catalog as a Markdown page (docs/events.md): one section per type, schema and example. */
export function renderCatalogPage(catalog: EventCatalog, processorApp = "event-processor"): string {
  const lines: string[] = [
    "# Event catalog",
    "",
    "Generated from the typed event catalog (`components/events`); do not edit by hand; regenerate with `UPDATE_DOCS=1 npx jest test/components/events`.",
    "",
    `Producers publish CloudEvents 1.0 to \`<type>\`. The ${processorApp} validates each (envelope and data schema),`,
    "stores it once in the event log and forwards it to `<type>.validated`, where consumers subscribe; invalid events go",
    "to `<type>.dead-letter` with their validation errors. Each consumer's subscription has its own dead-letter topic.",
    "",
    "| type | version | producers | consumers | topic | validated topic | dead-letter topic |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const d of catalog.definitions) {
    const t = topicsOf(d.type);
    const consumers = catalog.consumersOf(d).map((c) => `${c.app}${c.bulk ? " (bulk)" : ""}`).join(", ") || "-";
    lines.push(`| [\`${d.type}\`](#${d.type.replace(/\./g, "")}) | ${d.version} | ${d.producers.join(", ")} | ${consumers} | \`${t.topic}\` | \`${t.validTopic}\` | \`${t.deadLetterTopic}\` |`);
  }
  for (const d of catalog.definitions) {
    lines.push("", `## ${d.type}`, "", d.description, "");
    lines.push(`- version: ${d.version} (\`dataschema\`: \`${schemaId(d.type, d.version)}\`)`);
    lines.push(`- producers: ${d.producers.map((p) => `\`${p}\``).join(", ")}`);
    for (const c of catalog.consumersOf(d)) {
      lines.push(`- consumer \`${c.app}\`: route \`${c.route}\`${c.bulk ? ", bulk delivery" : ""}, dead letters to \`${consumerDeadLetterTopic(d.type, c.app)}\``);
    }
    lines.push("", "Schema of `data`:", "", "```json", JSON.stringify(d.schema, null, 2), "```", "", "Example `data`:", "", "```json", JSON.stringify(d.example, null, 2), "```");
  }
  return lines.join("\n") + "\n";
}
