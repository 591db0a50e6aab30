/** Largest DNS-1123 label (names of Services, Namespaces, ports' owners). */
export const MAX_DNS_LABEL = 63;

/**
 * Makes a stable, DNS-1123 label safe, readable name from parts: lower case, [a-z0-9-], no leading or trailing dash.
 * A name longer than `max` keeps its head and gets a short stable hash of the whole, so that it stays unique.
 */
export function kubeName(parts: ReadonlyArray<string>, max: number = MAX_DNS_LABEL): string {
  const joined = parts
    .filter((p) => p.length > 0)
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (joined.length === 0) throw new Error(`cannot make a Kubernetes name from ${JSON.stringify(parts)}`);
  if (joined.length <= max) return joined;
  const hash = stableHash(joined).slice(0, 8);
  return `${joined.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** True when the value is a DNS-1123 label. */
export function isDnsLabel(value: string): boolean {
  return value.length <= MAX_DNS_LABEL && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

/** True when the value may name a container port (IANA_SVC_NAME): a DNS label of at most 15, with a letter, no `--`. */
export function isPortName(value: string): boolean {
  return value.length <= 15 && isDnsLabel(value) && /[a-z]/.test(value) && !value.includes("--");
}

/** FNV-1a 32-bit as hex: small, dependency-free and stable across runs and platforms. */
export function stableHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
