import { PolicyRule } from "../types";
import { apiFormats } from "./api-formats";
import { hostAccessForbidden } from "./host-access-forbidden";
import { imagePinned } from "./image-pinned";
import { namespaceDefaultDeny } from "./namespace-default-deny";
import { namespaceScope } from "./namespace-scope";
import { podSecurityRestricted } from "./pod-security-restricted";
import { probesRequired } from "./probes-required";
import { recommendedLabelsRule } from "./recommended-labels";
import { resourcesRequired } from "./resources-required";
import { saTokenAutomount } from "./sa-token-automount";
import { secretNoData } from "./secret-no-data";
import { podSecurityLabels } from "./pod-security-labels";
import { rbacLeastPrivilege } from "./rbac-least-privilege";

export { apiFormats, namespaceScope, podSecurityLabels, rbacLeastPrivilege, hostAccessForbidden, imagePinned, namespaceDefaultDeny, podSecurityRestricted, probesRequired, recommendedLabelsRule, resourcesRequired, saTokenAutomount, secretNoData };

/** The rules every synth runs. */
export const DEFAULT_RULES: ReadonlyArray<PolicyRule> = [
  podSecurityRestricted,
  resourcesRequired,
  probesRequired,
  imagePinned,
  hostAccessForbidden,
  saTokenAutomount,
  namespaceDefaultDeny,
  recommendedLabelsRule,
  secretNoData,
  rbacLeastPrivilege,
  podSecurityLabels,
  namespaceScope,
  apiFormats,
];
