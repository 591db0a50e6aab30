export { SecurityComponent, SecurityComponentProps } from "./security";
export { CertManager, CertManagerProps, CertificateRequest, TlsCertificate, CERT_MANAGER_CHART, CERT_MANAGER_NAMESPACE, PLATFORM_ISSUER } from "./cert-manager";
export { ExternalSecrets, ExternalSecretsProps, EXTERNAL_SECRETS_CHART, EXTERNAL_SECRETS_NAMESPACE, SECRET_STORE, LOCAL_SECRETS_NAMESPACE } from "./external-secrets";
