import { Policies } from "@pulumi/policy";
import { eksSecretsEncryption, irsaOneServiceAccount, kmsRotation, noOpenAdminPorts, s3EncryptedPrivate } from "./aws-policies";
import { kubernetesManifestRules, kubernetesNamespaceDefaultDeny } from "./kubernetes-policies";

/** The policies of the Stratum pack: the manifest rules for Kubernetes, and the AWS rules. */
export const STRATUM_POLICIES: Policies = [
  kubernetesManifestRules,
  kubernetesNamespaceDefaultDeny,
  s3EncryptedPrivate,
  kmsRotation,
  noOpenAdminPorts,
  eksSecretsEncryption,
  irsaOneServiceAccount,
];
