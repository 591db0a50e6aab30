import * as k8s from "./imports/k8s";
import { mebibytes, quantityBytes } from "./quantity";

/**
 * Node disk a container may use besides its volumes: its logs (the kubelet keeps up to five files of 10 MiB by
 * default) and, with a read-only root filesystem, nothing else.
 */
export const LOG_ALLOWANCE_BYTES = 64 * 2 ** 20;

/**
 * The ephemeral-storage request and limit of a container that also accounts for the given emptyDir size limits.
 *
 * The kubelet evicts a pod when its containers' logs and writable layers plus its emptyDir volumes use more than the
 * sum of its containers' limits, so one container of each pod (the main one) carries the pod's emptyDirs in its own
 * limit. Request and limit are equal: the figures are small, and a pod that may use the disk should have it reserved.
 */
export function ephemeralStorage(emptyDirSizeLimits: ReadonlyArray<string> = []): k8s.Quantity {
  const bytes = emptyDirSizeLimits.reduce((n, s) => n + quantityBytes(s), LOG_ALLOWANCE_BYTES);
  return k8s.Quantity.fromString(mebibytes(bytes));
}
