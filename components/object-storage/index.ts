export { ObjectStorage, OBJECT_STORAGE_NODE, PRIVATE_CIDRS } from "./object-storage";
export type { ObjectStorageProps, BucketPrincipal, BucketAccessLevel, BucketPermissions, BucketGrant, BucketAccess, S3Credentials } from "./object-storage";
export { BUCKET_PURPOSES, MIN_INFREQUENT_ACCESS_DAYS, lifecycleProblems, lifecycleRules } from "./bucket";
export type { Bucket, BucketPurpose, BucketEncryption, LifecycleRule } from "./bucket";
export { InClusterS3Store, MINIO_IMAGE, MC_IMAGE } from "./in-cluster-store";
export type { InClusterS3StoreProps } from "./in-cluster-store";
