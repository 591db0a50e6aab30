export {
  ElasticsearchComponent, ElasticsearchProps, ElasticsearchEndpoint, defaultFamilies, ELASTIC_STACK_VERSION, ELASTICSEARCH_NODE,
  ELASTICSEARCH_TRANSPORT_NODE, KIBANA_NODE, ELASTICSEARCH_BOOTSTRAP_NODE, CLIENT_ROLE,
} from "./elasticsearch";
export { EckOperator, ECK_VERSION, ECK_CHART, ECK_NAMESPACE, ECK_OPERATOR_NODE } from "./operator";
export { IndexFamily, LifecycleSettings, SnapshotSettings, ilmPolicy, indexTemplate, policyName } from "./lifecycle";
export { BootstrapConfig, BootstrapResource, bootstrapProgram } from "./bootstrap-script";
export { heapMiB } from "./node-sets";
