// Kubernetes 1.28 built-in kinds: the bindings cdk8s generated for cdk8s-plus-28 (`cdk8s import k8s@1.28`).
// Re-exported rather than regenerated, because generation downloads the spec and synthesis must stay offline.
export * from "cdk8s-plus-28/lib/imports/k8s";
