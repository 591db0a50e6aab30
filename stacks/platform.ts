import { Construct } from "constructs";
import { FINALIZE_PHASES, FinalizePhase, PlatformComponent, PlatformContext, SyncWave } from "../components/component";
import { BusinessService, BusinessServiceProps, ServicesComponent } from "../components/services";
import { PlatformNamespace, PlatformNamespaceProps } from "../constructs/namespace";
import { addGraphNetworkPolicy } from "../constructs/network-policy";
import { IrsaRegistry } from "../constructs/irsa";
import { SecretRegistry } from "../constructs/secret-ref";
import { ServiceGraph } from "../constructs/service-graph";
import { Environment } from "./environments/environment";

/** Graph id of the Kubernetes API server: workloads that call the API consume it, nothing else reaches it. */
export const KUBE_APISERVER = "kube-apiserver";

/** Props of a Platform. */
export interface PlatformProps {
  /** The environment it is built for. */
  readonly environment: Environment;
}

/**
 * One environment's platform: composes the components, onboards business services and, once everything is added,
 * derives the traffic rules from the service graph.
 */
export class Platform extends Construct implements PlatformContext {
  /** The environment's data. */
  readonly environment: Environment;
  /** The service graph. */
  readonly graph = new ServiceGraph();
  /** Credentials the platform needs in the cluster. */
  readonly secrets = new SecretRegistry();
  /** IAM roles for ServiceAccounts. */
  readonly irsa: IrsaRegistry;
  /** The ArgoCD AppProject of the environment. */
  readonly gitopsProject: string;
  /** The namespaces of the platform (one file, synced first). */
  readonly namespaces: PlatformComponent;
  private readonly namespaceProps = new Map<string, PlatformNamespaceProps>();
  private readonly finalizers: Record<FinalizePhase, Array<() => void>> = { connect: [], observe: [], "data-plane": [], derive: [] };
  private frozenGraph = false;
  /** Index in FINALIZE_PHASES of the phase that is running, -1 before finalize. */
  private runningPhase = -1;
  private servicesComponent?: ServicesComponent;
  private finalized = false;

  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    this.environment = props.environment;
    this.gitopsProject = `stratum-${props.environment.name}`;
    this.irsa = new IrsaRegistry(props.environment.name, props.environment.cloud.accountId);
    this.namespaces = new PlatformComponent(this, "Namespaces", this, { name: "namespaces", syncWave: SyncWave.NAMESPACES });
    const api = props.environment.network.apiServer;
    this.graph.addNode({
      id: KUBE_APISERVER,
      kind: "external",
      cidrs: [...api.cidrs],
      ports: [{ name: "https", port: api.port, protocol: "tls" }],
    });
  }

  /** Creates a namespace once; asking again with different settings is an error. */
  ensureNamespace(props: PlatformNamespaceProps): string {
    const existing = this.namespaceProps.get(props.name);
    if (existing) {
      if (JSON.stringify(existing.podSecurityException) !== JSON.stringify(props.podSecurityException)) {
        throw new Error(`${this.node.path}: namespace '${props.name}' is requested with different Pod Security settings`);
      }
      return props.name;
    }
    this.assertOpen("ensureNamespace");
    this.namespaceProps.set(props.name, props);
    new PlatformNamespace(this.namespaces, props.name, props);
    return props.name;
  }

  /** Registers a derivation to run when the platform is finalized. */
  onFinalize(callback: () => void, phase: FinalizePhase = "connect"): void {
    this.assertOpen("onFinalize");
    if (this.frozenGraph) throw new Error(`${this.node.path}: onFinalize called while deriving; register callbacks when the component is built`);
    const at = FINALIZE_PHASES.indexOf(phase);
    if (at < this.runningPhase) throw new Error(`${this.node.path}: onFinalize for phase '${phase}' while '${FINALIZE_PHASES[this.runningPhase]}' runs; it would never run`);
    this.finalizers[phase].push(callback);
  }

  /** The component of this class added earlier, if any. */
  find<T extends PlatformComponent>(type: abstract new (...args: never[]) => T): T | undefined {
    // not `instanceof`: cdk8s makes every Chart an instance of every Chart class (Symbol.hasInstance)
    return this.components.find((c): c is T => Object.prototype.isPrototypeOf.call(type.prototype, c));
  }

  /** Adds a component built by `factory` (which receives this platform as its context) and returns it. */
  add<T extends PlatformComponent>(factory: (scope: Construct, context: PlatformContext) => T): T {
    this.assertOpen("add");
    return factory(this, this);
  }

  /** Onboards a business service: workload, graph node, its edges, and (through the graph) its traffic rules. */
  addService(props: BusinessServiceProps): BusinessService {
    this.assertOpen("addService");
    this.servicesComponent ??= new ServicesComponent(this, "Services", this);
    return this.servicesComponent.addService(props);
  }

  /** The business services. */
  get services(): BusinessService[] {
    return this.servicesComponent?.services ?? [];
  }

  /** Every component, in the order they were added. */
  get components(): PlatformComponent[] {
    return this.node.children.filter((c): c is PlatformComponent => c instanceof PlatformComponent);
  }

  /** The names of every namespace the platform creates. */
  get namespaceNames(): string[] {
    return [...this.namespaceProps.keys()].sort();
  }

  /**
   * Resolves the service graph and derives what it implies (NetworkPolicies here; components add their own through
   * `onFinalize`). Runs once; synthesis calls it.
   */
  finalize(): void {
    if (this.finalized) return;
    this.graph.resolve();
    // every phase before `derive` may still change the graph
    FINALIZE_PHASES.slice(0, FINALIZE_PHASES.indexOf("derive")).forEach((phase, i) => {
      this.runningPhase = i;
      for (const f of this.finalizers[phase]) f();
    });
    this.graph.resolve();
    this.graph.bindConnections();
    this.frozenGraph = true;
    this.secrets.freeze();
    const edges = this.graph.edges.length;
    for (const f of this.finalizers.derive) f();
    if (this.graph.resolve().length !== edges) throw new Error(`${this.node.path}: a 'derive' finalizer changed the service graph; use the 'connect' phase for that`);
    for (const node of this.graph.nodes) addGraphNetworkPolicy(this.graph, node);
    this.finalized = true;
  }

  private assertOpen(what: string): void {
    if (this.finalized) throw new Error(`${this.node.path}: ${what} after the platform was finalized (synthesized)`);
  }
}
