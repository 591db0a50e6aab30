import { Construct } from "constructs";
import { PlatformComponent, PlatformContext, SyncWave } from "../component";
import { ArgoCd } from "./argocd";

/**
 * GitOps: Argo CD itself (self-managed). The environment's AppProject, root app-of-apps, one Application per
 * component and the fleet ApplicationSet are written by the synth (`stacks/gitops.ts`) from the components.
 */
export class GitOpsComponent extends PlatformComponent {
  /** Argo CD. */
  readonly argocd: ArgoCd;

  constructor(scope: Construct, id: string, context: PlatformContext) {
    super(scope, id, context, { name: "gitops", syncWave: SyncWave.OPERATORS });
    this.argocd = new ArgoCd(this, "ArgoCd", context, { sizing: context.environment.sizing.operators });
  }
}
