import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Construct } from "constructs";
import { gzipSync } from "fflate";
import { BOOT_SCRIPT } from "./asset-boot";
import * as k8s from "./imports/k8s";
import { recommendedLabels } from "./labels";
import { kubeName } from "./names";

/** The pinned Node.js base image the runtime services run on. */
export const NODE_BASE_IMAGE = "docker.io/library/node:20.18.1-bookworm-slim";
/**
 * uid (and gid) the Node.js pods run as. Not the image's `node` user (1000): the bundle is mounted read-only from a
 * ConfigMap and inflated in memory, nothing in the image needs to be owned, and a uid above 10000 cannot collide
 * with a user of the node's own (as linters such as kube-score ask).
 */
export const NODE_UID = 65532;
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

/** Compressed bundles by path and size: every environment of a synth ships the same bundles. */
const compressed = new Map<string, { code: Buffer; gz: Buffer }>();

function compress(file: string): Buffer {
  const code = fs.readFileSync(file);
  const hit = compressed.get(file);
  if (hit && hit.code.equals(code)) return hit.gz;
  // fflate is plain JavaScript: the same bytes on every machine, where zlib's output may vary with its build
  const gz = Buffer.from(gzipSync(code, { level: 9, mtime: 0 }));
  compressed.set(file, { code, gz });
  return gz;
}

/**
 * A runtime service's bundle (ARCHITECTURE idea 6) in a ConfigMap whose name carries its content hash: a change to
 * the code changes the name, the pod template that mounts it, and so rolls the pods. The bundle is stored
 * gzip-compressed (`index.js.gz`, binaryData) with a small loader (`boot.js`) that the pods start.
 */
export class RuntimeAsset extends Construct {
  /** The ConfigMap name (`<service>-bundle-<hash>`). */
  readonly configMapName: string;
  /** The content hash of what the ConfigMap holds (sha256, first 10 hex digits). */
  readonly hash: string;
  /** The command that runs the bundle in the base image. */
  readonly command: ReadonlyArray<string>;

  constructor(scope: Construct, id: string, props: RuntimeAssetProps) {
    super(scope, id);
    const file = bundlePath(props.service);
    if (!fs.existsSync(file)) throw new Error(`${this.node.path}: bundle ${file} is missing; run 'npm run build' first`);
    const gz = compress(file).toString("base64");
    const size = gz.length + Buffer.byteLength(BOOT_SCRIPT);
    if (size > CONFIGMAP_LIMIT) throw new Error(`${this.node.path}: bundle of ${props.service} is ${size} bytes compressed, over the ConfigMap limit of ${CONFIGMAP_LIMIT}`);
    this.hash = createHash("sha256").update(BOOT_SCRIPT).update(gz).digest("hex").slice(0, 10);
    this.configMapName = kubeName([props.service, "bundle", this.hash]);
    this.command = ["node", "--enable-source-maps", `${ASSET_MOUNT_PATH}/boot.js`];
    new k8s.KubeConfigMap(this, "Bundle", {
      metadata: {
        name: this.configMapName,
        namespace: props.namespace,
        labels: recommendedLabels({ name: props.service, component: "runtime-asset" }),
        annotations: { "stratum.dev/asset-sha256": this.hash },
      },
      immutable: true,
      data: { "boot.js": BOOT_SCRIPT },
      binaryData: { "index.js.gz": gz },
    });
  }

  /** The volume that mounts the bundle (for `HardenedWorkload.volumes`). */
  get volume() {
    return { name: "bundle", configMap: this.configMapName, mountPath: ASSET_MOUNT_PATH, readOnly: true };
  }
}
