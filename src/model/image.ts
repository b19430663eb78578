/** A container image reference cut into its parts, before any rule decides what the parts mean. */
export interface ImageParts {
  /** Everything before the digest: [registry/]repository[:tag]. */
  name: string;
  /** After "@", when there is one. */
  digest?: string;
  /** After the last ":" that follows the last "/", when there is one. */
  tag?: string;
  /** The name without its tag. */
  path: string;
  /** `path` split at "/": the first may be a registry host. */
  parts: string[];
}

/** Cut an image reference at its digest ("@"), its tag (a ":" after the last "/") and its path components. */
export function splitImage(image: string): ImageParts {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const path = colon > slash ? name.slice(0, colon) : name;
  const parts: ImageParts = { name, path, parts: path.split('/') };
  if (at >= 0) parts.digest = image.slice(at + 1);
  if (colon > slash) parts.tag = name.slice(colon + 1);
  return parts;
}
