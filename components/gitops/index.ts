export { GitOpsComponent } from "./gitops";
export { ArgoCd, ArgoCdProps, ARGOCD_CHART, ARGOCD_VERSION } from "./argocd";
