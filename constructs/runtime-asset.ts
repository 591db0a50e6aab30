import * as fs from "node:fs";
import * as path from "node:path";
import { Construct } from "constructs";
import * as k8s from "./imports/k8s";
import { recommendedLabels } from "./labels";
import { kubeName } from "./names";

/** The pinned Node.js base image the runtime services run on (the non-root `node` user is uid 1000). */
export const NODE_BASE_IMAGE = "docker.io/library/node:20.18.1-bookworm-slim";
/** uid of the `node` user in the base image. */
export const NODE_UID = 1000;
/** Where the bundle is mounted in the container. */
export const ASSET_MOUNT_PATH = "/opt/stratum";
/** ConfigMaps hold at most 1 MiB. */
const CONFIGMAP_LIMIT = 1024 * 1024 - 4096;

function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("runtime asset: cannot find the package root");
    dir = up;
  }
  return dir;
}

/** Path of a service's bundle (`lib/assets/<service>/index.js`). */
export function bundlePath(service: string): string {
  return path.join(packageRoot(), "lib", "assets", service, "index.js");
}

/** Props of a runtime asset. */
export interface RuntimeAssetProps {
  /** Service name under services/ (`gateway`). */
  readonly service: string;
  /** Namespace of the ConfigMap. */
  readonly namespace: string;
}

/**
 * A runtime service's bundle (ARCHITECTURE idea 6) in a ConfigMap whose name carries the bundle's content hash:
 * a change to the code changes the name, the pod template that mounts it, and so rolls the pods.
 */
export class RuntimeAsset extends Construct {
  /** The ConfigMap name (`<service>-bundle-<hash>`). */
  readonly configMapName: string;
  /** The content hash (sha256, first 10 hex digits). */
  readonly hash: string;
  /** The command that runs the bundle in the base image. */
  readonly command: ReadonlyArray<string>;

  constructor(scope: Construct, id: string, props: RuntimeAssetProps) {
    super(scope, id);
    const file = bundlePath(props.service);
    if (!fs.existsSync(file)) throw new Error(`${this.node.path}: bundle ${file} is missing; run 'npm run build' first`);
    const code = fs.readFileSync(file, "utf8");
    if (Buffer.byteLength(code) > CONFIGMAP_LIMIT) throw new Error(`${this.node.path}: bundle of ${props.service} is ${Buffer.byteLength(code)} bytes, over the ConfigMap limit`);
    this.hash = require("node:crypto").createHash("sha256").update(code).digest("hex").slice(0, 10);
    this.configMapName = kubeName([props.service, "bundle", this.hash]);
    this.command = ["node", "--enable-source-maps", `${ASSET_MOUNT_PATH}/index.js`];
    new k8s.KubeConfigMap(this, "Bundle", {
      metadata: {
        name: this.configMapName,
        namespace: props.namespace,
        labels: recommendedLabels({ name: props.service, component: "runtime-asset" }),
        annotations: { "stratum.dev/asset-sha256": this.hash },
      },
      immutable: true,
      data: { "index.js": code },
    });
  }

  /** The volume that mounts the bundle (for `HardenedWorkload.volumes`). */
  get volume() {
    return { name: "bundle", configMap: this.configMapName, mountPath: ASSET_MOUNT_PATH, readOnly: true };
  }
}
