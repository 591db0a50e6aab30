export { TasksComponent, TasksProps, TASK_ORCHESTRATOR_NODE, TASKS_NAMESPACE, TASKS_CONFIG_MAP } from "./tasks";
export { orchestratorConfig, OrchestratorSettings } from "./orchestrator-config";
export { taskStatusEvents } from "./status-events";
export { taskAlerts } from "./alerts";
