/** A container image reference split into its parts. */
export interface ImageReference {
  /** Everything before the tag or digest, e.g. `ghcr.io/acme/order`. */
  readonly repository: string;
  /** The tag, when present. */
  readonly tag?: string;
  /** The digest (`sha256:...`), when present. */
  readonly digest?: string;
}

const EXACT_TAG = /^v?\d+(\.\d+){1,3}([-+._][0-9A-Za-z][0-9A-Za-z._-]*)?$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REFERENCE = /^([a-z0-9]+([._-][a-z0-9]+)*(:\d+)?\/)?[a-z0-9]+([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** Parses an image reference; throws when it is malformed. */
export function parseImage(image: string): ImageReference {
  if (!REFERENCE.test(image)) throw new Error(`'${image}' is not a valid image reference`);
  const [nameAndTag, digest] = image.split("@");
  const slash = nameAndTag.lastIndexOf("/");
  const colon = nameAndTag.lastIndexOf(":");
  const hasTag = colon > slash;
  return {
    repository: hasTag ? nameAndTag.slice(0, colon) : nameAndTag,
    tag: hasTag ? nameAndTag.slice(colon + 1) : undefined,
    digest,
  };
}

/**
 * Why an image is not exactly pinned, or undefined when it is: a digest, or a tag that is an exact version
 * (`1.2.3`, `v1.28.4`, `16.4-bookworm`); `latest`, `stable` and bare majors like `16` are not.
 */
export function imagePinProblem(image: string): string | undefined {
  let ref: ImageReference;
  try {
    ref = parseImage(image);
  } catch (e) {
    return (e as Error).message;
  }
  if (ref.digest && DIGEST.test(ref.digest)) return undefined;
  if (!ref.tag) return `image '${image}' has no tag or digest; pin an exact version (repo:1.2.3) or a digest (repo@sha256:...)`;
  if (!EXACT_TAG.test(ref.tag)) return `image '${image}' has the floating tag '${ref.tag}'; pin an exact version such as 1.2.3, or a digest`;
  return undefined;
}

/** The version label value for an image: its tag, or the digest's first 12 hex digits. */
export function imageVersion(image: string): string {
  const ref = parseImage(image);
  if (ref.tag) return ref.tag.slice(0, 63);
  return (ref.digest ?? "unknown").replace("sha256:", "").slice(0, 12);
}
