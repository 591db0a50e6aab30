import { Construct } from "constructs";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { APPS_NAMESPACE, BusinessService, BusinessServiceProps } from "./business-service";

/** The business services of the platform, in one GitOps file (`services.k8s.yaml`). */
export class ServicesComponent extends PlatformComponent {
  private readonly byName = new Map<string, BusinessService>();

  constructor(scope: Construct, id: string, context: PlatformContext) {
    super(scope, id, context, { name: "services", syncWave: SyncWave.WORKLOADS });
  }

  /** Onboards a business service. */
  addService(props: BusinessServiceProps): BusinessService {
    if (this.byName.has(props.name)) throw new Error(`${this.node.path}: service '${props.name}' is added twice`);
    const namespace = props.namespace ?? APPS_NAMESPACE;
    this.context.ensureNamespace({ name: namespace, component: "business-services" });
    const svc = new BusinessService(this, props.name, this.context, props);
    this.byName.set(props.name, svc);
    return svc;
  }

  /** The onboarded services, in the order they were added. */
  get services(): BusinessService[] {
    return [...this.byName.values()];
  }
}
