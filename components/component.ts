import { Chart } from "cdk8s";
import { Construct } from "constructs";
import { HelmAddon } from "../constructs/helm-addon";
import { PlatformNamespaceProps } from "../constructs/namespace";
import { IrsaRegistry } from "../constructs/irsa";
import { SecretRegistry } from "../constructs/secret-ref";
import { ServiceGraph } from "../constructs/service-graph";
import type { Environment } from "../stacks/environments/environment";

/** Sync waves that order a GitOps sync: namespaces and CRDs, then operators, then custom resources, then workloads. */
export const SyncWave = {
  NAMESPACES: -10,
  OPERATORS: 0,
  CUSTOM_RESOURCES: 10,
  WORKLOADS: 20,
} as const;

/**
 * When a finalize callback runs, in this order:
 * - `connect`: components wire their own nodes and edges (consumers, events, routes);
 * - `observe`: observers add edges to every node that asks for them (Prometheus to each metrics port), on the nodes
 *   that `connect` produced;
 * - `data-plane`: the mesh adds each meshed node's edges to its control plane and collector, including the nodes
 *   `observe` added;
 * - `derive`: reads the complete graph and must not change it (policies, monitors, ExternalSecrets).
 * Within a phase, callbacks run in registration order, and a callback registered for the running phase runs after it.
 */
export type FinalizePhase = "connect" | "observe" | "data-plane" | "derive";

/** The finalize phases in the order they run. */
export const FINALIZE_PHASES: ReadonlyArray<FinalizePhase> = ["connect", "observe", "data-plane", "derive"];

/** What a component receives from the platform that composes it. */
export interface PlatformContext {
  /** The environment's data; components size themselves from it. */
  readonly environment: Environment;
  /** The service graph every component declares its traffic in. */
  readonly graph: ServiceGraph;
  /** Creates a namespace once (with its zero-trust baseline) and returns its name. */
  ensureNamespace(props: PlatformNamespaceProps): string;
  /** IAM roles for ServiceAccounts (cloud access); the Pulumi program creates exactly these. */
  readonly irsa: IrsaRegistry;
  /** Credentials the platform needs; declared here, materialised as ExternalSecrets by the security component. */
  readonly secrets: SecretRegistry;
  /** The ArgoCD AppProject of the environment; every Application of the platform belongs to it. */
  readonly gitopsProject: string;
  /**
   * Runs a callback once every component and service is added, before synthesis (in registration order).
   * Phases `connect` (the default), `observe` and `data-plane` may add graph nodes, edges and secret requirements, in
   * that order (see FinalizePhase); phase `derive` runs after them all, on the complete graph, and must not change it
   * (mesh policies, ExternalSecrets).
   */
  onFinalize(callback: () => void, phase?: FinalizePhase): void;
  /** The component of this class added earlier, if any (components wire to each other through it). */
  find<T extends PlatformComponent>(type: abstract new (...args: never[]) => T): T | undefined;
}

/** Options every component declares. */
export interface ComponentOptions {
  /** File and ArgoCD Application name, e.g. `mesh`, `postgres`. */
  readonly name: string;
  /** ArgoCD sync wave of its Application. */
  readonly syncWave: number;
}

/**
 * A platform capability (L3): one chart, written to `dist/<env>/<name>.k8s.yaml` and synced by one ArgoCD
 * Application at its sync wave.
 */
export class PlatformComponent extends Chart {
  /** File and Application name. */
  readonly componentName: string;
  /** ArgoCD sync wave. */
  readonly syncWave: number;
  /** The platform it belongs to. */
  readonly context: PlatformContext;

  constructor(scope: Construct, id: string, context: PlatformContext, options: ComponentOptions) {
    super(scope, id, { disableResourceNameHashes: true });
    this.componentName = options.name;
    this.syncWave = options.syncWave;
    this.context = context;
  }

  /** The Helm add-ons this component installs. */
  get addons(): HelmAddon[] {
    return this.node.findAll().filter((c): c is HelmAddon => c instanceof HelmAddon);
  }
}
