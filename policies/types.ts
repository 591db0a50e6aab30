/** A synthesized Kubernetes object as plain JSON. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [key: string]: unknown;
}

/** How bad a finding is: errors fail the synth, warnings are printed. */
export type Severity = "error" | "warning";

/** One problem a rule found on one object: the field and what is wrong with it. */
export interface Violation {
  /** Dotted path of the field, e.g. `spec.template.spec.containers[0].image`. */
  readonly field: string;
  /** What is wrong and what is expected. */
  readonly message: string;
}

/** What a rule sees besides the object: every object of the same environment. */
export interface PolicyContext {
  readonly objects: ReadonlyArray<K8sObject>;
}

/** A rule over synthesized objects. */
export interface PolicyRule {
  /** Stable id, used in suppressions (`image-pinned`). */
  readonly id: string;
  /** Severity of its findings. */
  readonly severity: Severity;
  /** One sentence: what it requires and why. */
  readonly description: string;
  /** The violations on one object (empty when it passes or does not apply). */
  check(obj: K8sObject, ctx: PolicyContext): Violation[];
}

/** A violation tied to its rule and object. */
export interface Finding extends Violation {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** The result of running the rules over a set of objects. */
export interface PolicyReport {
  /** Findings that count. */
  readonly findings: ReadonlyArray<Finding>;
  /** Findings that a suppression annotation (with a reason) silenced, with that reason. */
  readonly suppressed: ReadonlyArray<Finding & { readonly reason: string }>;
  /** Errors among the findings. */
  readonly errors: ReadonlyArray<Finding>;
}
