import type { Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { eventsWithReason, isAboutContainer, kubectl, nsFlag, podRef } from '../src/model/pod.js';
import { waitingContainers } from '../src/model/terminations.js';
import { containerLabel, repeatEvidence } from '../src/model/container-start.js';
import { MAX_TEXT, firstLine, shellQuote } from '../src/model/text.js';
import type { ImageParts } from '../src/model/image.js';
import { splitImage } from '../src/model/image.js';

/** What is wrong with the image reference. */
type NameCause = 'uppercase' | 'whitespace' | 'bad-tag' | 'bad-digest' | 'other';

/** A verdict on a reference: the cause, what is wrong in words, and a corrected reference when one can be guessed. */
interface Verdict {
  cause: NameCause;
  why: string;
  fixed?: string;
}

// The grammar of github.com/distribution/reference, which the kubelet parses references with.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|\[[0-9a-fA-F:]+\])(?::\d+)?$|^[a-zA-Z0-9-]+:\d+$/;

/** Check a reference (split by `splitImage`) the way the kubelet does, and say what breaks it. */
function judge(image: string, { digest, tag, parts }: ImageParts): Verdict {
  if (/\s/.test(image)) return { cause: 'whitespace', why: 'it contains whitespace', fixed: image.replace(/\s+/g, '') };
  const first = parts[0] ?? '';
  const domain = parts.length > 1 && DOMAIN.test(first) && (first.includes('.') || first.includes(':') || first === 'localhost' || /[A-Z]/.test(first)) ? first : undefined;
  const repoParts = domain ? parts.slice(1) : parts;
  const rebuild = (repo: string[], t: string | undefined, d: string | undefined): string => `${[...(domain ? [domain] : []), ...repo].join('/')}${t !== undefined ? `:${t}` : ''}${d !== undefined ? `@${d}` : ''}`;

  if (repoParts.some((p) => /[A-Z]/.test(p))) {
    const lower = repoParts.map((p) => p.toLowerCase());
    // Tags are case-sensitive and may hold capitals; "Latest" is all but certainly meant as "latest".
    const fixedTag = tag !== undefined && tag.toLowerCase() === 'latest' ? 'latest' : tag;
    return { cause: 'uppercase', why: `the repository name (${repoParts.join('/')}) has capital letters: repository names must be lowercase`, fixed: rebuild(lower, fixedTag, digest) };
  }
  if (digest !== undefined && !DIGEST.test(digest)) return { cause: 'bad-digest', why: `the digest "${digest}" is not ALGORITHM:HEX (e.g. sha256: and 64 hex digits)` };
  if (digest !== undefined && /^sha256:/.test(digest) && !/^sha256:[a-f0-9]{64}$/.test(digest)) return { cause: 'bad-digest', why: `the digest "${digest}" is not sha256: followed by 64 lowercase hex digits` };
  if (tag !== undefined && !TAG.test(tag)) {
    // Semver build metadata ("1.2.0+build.7") is not allowed in a tag: registries store it with "_".
    const underscored = tag.replace(/\+/g, '_');
    return {
      cause: 'bad-tag',
      why: tag === '' ? 'the tag after ":" is empty' : `the tag "${tag}" is not valid (letters, digits, "_", "." and "-", up to 128, not starting with "." or "-")${tag.includes('+') ? '; a "+" (semver build metadata) is usually pushed as "_"' : ''}`,
      ...(tag.includes('+') && TAG.test(underscored) ? { fixed: rebuild(repoParts, underscored, digest) } : {}),
    };
  }
  if (repoParts.some((p) => !PATH_COMPONENT.test(p))) return { cause: 'other', why: `a path component of "${repoParts.join('/')}" has characters an image name cannot have (only a-z, 0-9 and single ".", "_", "__" or "-" separators)` };
  return { cause: 'other', why: 'the kubelet could not parse it; its message says why' };
}

/** `kubectl set image` for the pod's workload, or how to re-create a Job whose template cannot change. */
function setImageStep(pod: Pod, index: SnapshotIndex, container: string, image: string): RemediationStep {
  const target = kubectl.target(pod, index);
  const ns = nsFlag(pod.metadata.namespace);
  if (target.startsWith('job/')) {
    return { description: `A Job's pod template cannot be changed: fix the image in its manifest and re-create ${target}`, command: `kubectl get ${target} ${ns}-o yaml` };
  }
  return { description: `Point ${target} at a valid reference`, command: `kubectl set image ${target} ${ns}${container}=${shellQuote(image)}` };
}

/**
 * InvalidImageName: the kubelet cannot even parse the container's image reference, so it never tries
 * to pull. The API server does not check references (beyond leading or trailing spaces), so the
 * mistake shows only on the node.
 */
const rule: Rule = {
  id: 'invalid-image-name',
  title: 'Image reference cannot be parsed (InvalidImageName)',
  severity: 'critical',
  description:
    'The container\'s image reference is not a valid image name, so the kubelet cannot pull it and the container never starts. The API server accepts any string; the kubelet parses it and refuses: a repository name with capital letters, whitespace inside the reference, a malformed tag or digest.',
  detection:
    'state.waiting.reason=InvalidImageName on a container or init container, with the kubelet\'s message ("Failed to apply default image tag \\"Nginx:Latest\\": couldn\'t parse image reference ...: invalid reference format: repository name must be lowercase") and its InspectFailed events; the reference in the spec is checked against the image-name grammar to say what is wrong.',
  supersedes: ['pod-pending'],
  remediation: [
    { description: 'Fix the reference in the workload (lowercase repository, no spaces, a valid tag or digest)', command: 'kubectl set image deployment/NAME -n NAMESPACE CONTAINER=IMAGE:TAG' },
  ],
  match: (context) => {
    const { index } = context;
    const findings: Finding[] = [];
    for (const { pod, view, waiting } of waitingContainers(context, 'InvalidImageName')) {
      const name = view.status.name;
      const image = view.spec?.image ?? view.status.image ?? '';
      const split = splitImage(image);
      const verdict = judge(image, split);
      // The parser's own words settle the case when the spec was not in the snapshot.
      const cause: NameCause = verdict.cause === 'other' && /must be lowercase/i.test(waiting.message ?? '') ? 'uppercase' : verdict.cause;
      const events = eventsWithReason(index, pod, 'InspectFailed').filter((e) => isAboutContainer(e, name));

      const evidence = ['state.waiting.reason=InvalidImageName'];
      if (waiting.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message, MAX_TEXT)}`);
      evidence.push(...events.slice(-1).map((event) => repeatEvidence(event, waiting.message)));
      evidence.push(`spec image: ${JSON.stringify(image)}`);
      if (view.init) evidence.push('init container: the pod cannot start until it runs');

      const fixed = verdict.fixed && verdict.fixed !== image ? verdict.fixed : undefined;
      const base = split.path;
      const remediation: RemediationStep[] = [];
      if (fixed) remediation.push(setImageStep(pod, index, name, fixed));
      else if (cause === 'bad-digest') remediation.push(setImageStep(pod, index, name, `${base}@sha256:<digest>`));
      else remediation.push(setImageStep(pod, index, name, `${base.toLowerCase().replace(/\s+/g, '')}:<tag>`));
      if (fixed || cause === 'bad-tag') remediation.push({ description: 'Check that the corrected reference exists (tags are case-sensitive)', command: `docker manifest inspect ${shellQuote(fixed ?? `${base}:<tag>`)}` });
      remediation.push({ description: 'Fix the manifest, Helm values or kustomization the image came from, or the next deploy brings it back' });

      findings.push({
        severity: 'critical',
        title: `${containerLabel(view)} has an invalid image reference ${JSON.stringify(image)}`,
        object: podRef(pod, name),
        evidence,
        explanation: `The kubelet cannot parse ${JSON.stringify(image)} as an image reference: ${verdict.why}. It never tries to pull, and ${name} cannot start until the reference is fixed. The API server does not check image references, so this only shows on the node.${fixed ? ` The likely intended reference is ${fixed}.` : ''}`,
        remediation,
        confidence: cause === 'other' ? 0.8 : 0.95,
        cause,
      });
    }
    return findings;
  },
};

export default rule;
