import { K8sObject } from "../../policies/types";

/** Objects of one kind (and optionally name and namespace). */
export function findAll(objects: ReadonlyArray<K8sObject>, kind: string, name?: string, namespace?: string): K8sObject[] {
  return objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace),
  );
}

/** Exactly one object of a kind and name; fails the test with the candidates otherwise. */
export function findOne(objects: ReadonlyArray<K8sObject>, kind: string, name: string, namespace?: string): K8sObject & Record<string, any> {
  const hits = findAll(objects, kind, name, namespace);
  if (hits.length !== 1) {
    const known = findAll(objects, kind).map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    throw new Error(`expected one ${kind} ${namespace ?? ""}/${name}, found ${hits.length}; ${kind}s: ${known.join(", ")}`);
  }
  return hits[0] as K8sObject & Record<string, any>;
}
