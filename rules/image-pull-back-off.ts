import type { KubeEvent, Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import type { ContainerView } from '../src/model/pod.js';
import { containers, eventEvidence, eventsWithReason, isAboutContainer, kubectl, nsFlag, podRef } from '../src/model/pod.js';
import { eventCount } from '../src/model/snapshot-index.js';
import { MAX_TEXT, firstLine, shellQuote } from '../src/model/text.js';
import { splitImage } from '../src/model/image.js';

/** Why a pull fails, as far as the registry's and runtime's messages say. */
type PullCause = 'not-found' | 'unauthorized' | 'rate-limited' | 'network' | 'unknown';

/** An image reference split the way the container runtime reads it. */
interface ImageRef {
  /** Registry host as the runtime contacts it (docker.io for Docker Hub). */
  registry: string;
  /** Repository path without the registry (library/nginx for "nginx"). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Split an image reference: a first component with a dot, a colon or "localhost" is a registry; otherwise Docker Hub. */
function parseImage(image: string): ImageRef {
  const { digest, tag, path, parts } = splitImage(image);
  const first = parts[0] ?? '';
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  let repository = hasRegistry ? parts.slice(1).join('/') : path;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  const ref: ImageRef = { registry, repository };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/** The value of `--docker-server` for a registry: Docker Hub's credentials live under its v1 index URL. */
function dockerServer(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

// Docker Hub (and containerd against it) answers the same way for a repository that does not exist and
// one that needs credentials, so this text alone says "not found or unauthorized".
const AMBIGUOUS =
  /pull access denied(?: for [^,]+)?, repository does not exist or may require (?:'docker login'|authorization)(?:: denied: requested access to the resource is denied|: server message: insufficient_scope: authorization failed)?/gi;
const RATE_LIMITED = /toomanyrequests|429 Too Many Requests|pull rate limit/i;
const UNAUTHORIZED = /401 Unauthorized|\bunauthorized\b|authentication required|403 Forbidden|denied: requested access to the resource is denied|no basic auth credentials|failed to authorize|insufficient_scope/i;
const NOT_FOUND = /manifest unknown|: not found\b|code = NotFound|name unknown|repository name not known|not found: manifest/i;
const NETWORK = /i\/o timeout|no such host|x509:|connection refused|connection reset by peer|network is unreachable|TLS handshake timeout|dial tcp/i;

/** What the pull errors say, strongest signal first: rate limit, credentials, a missing image, the network. */
function classify(texts: string[]): { cause: PullCause; ambiguous: boolean } {
  let ambiguous = false;
  const plain = texts.map((text) => {
    const stripped = text.replace(AMBIGUOUS, ' ');
    if (stripped !== text) ambiguous = true;
    return stripped;
  });
  const says = (pattern: RegExp): boolean => plain.some((text) => pattern.test(text));
  if (says(RATE_LIMITED)) return { cause: 'rate-limited', ambiguous };
  if (says(UNAUTHORIZED)) return { cause: 'unauthorized', ambiguous };
  if (says(NOT_FOUND)) return { cause: 'not-found', ambiguous: false };
  if (says(NETWORK)) return { cause: 'network', ambiguous };
  return { cause: ambiguous ? 'not-found' : 'unknown', ambiguous };
}

/**
 * Evidence line for a pull event, like eventEvidence but with the whole message: the registry's answer
 * comes last, after the image reference has been repeated two or three times.
 */
function pullEvidence(event: KubeEvent): string {
  const from = event.source?.component ?? event.reportingComponent;
  return `event ${event.reason ?? '?'} (x${eventCount(event)}${from ? `, ${from}` : ''}): ${firstLine(event.message, MAX_TEXT)}`;
}

/** The kubelet's pull events for one container, oldest first: Failed ("Failed to pull image ...") and BackOff. */
function pullEvents(index: SnapshotIndex, pod: Pod, container: string): KubeEvent[] {
  return eventsWithReason(index, pod, 'Failed', 'BackOff').filter(
    (event) => isAboutContainer(event, container) && /pull|image/i.test(event.message ?? ''),
  );
}

/** `kubectl rollout restart` for a pod's Deployment / StatefulSet / DaemonSet, else deleting the pod. */
function recreateStep(pod: Pod, index: SnapshotIndex): RemediationStep {
  const owner = index.ownerOf(pod);
  const ns = nsFlag(pod.metadata.namespace);
  if (owner && ['Deployment', 'StatefulSet', 'DaemonSet'].includes(owner.kind)) {
    return { description: 'Existing pods keep the pull secrets they were created with: restart the workload', command: `kubectl rollout restart ${ns}${owner.kind.toLowerCase()}/${owner.name}` };
  }
  return { description: 'Existing pods keep the pull secrets they were created with: delete the pod so it is recreated', command: `kubectl delete pod ${ns}${pod.metadata.name}` };
}

interface PullContext {
  view: ContainerView;
  pod: Pod;
  index: SnapshotIndex;
  image: string;
  ref: ImageRef;
  secrets: string[];
  serviceAccount: string;
}

/** Fix the reference: check what exists, then point the workload at a tag that does. */
function fixTagSteps(c: PullContext): RemediationStep[] {
  const ns = c.pod.metadata.namespace ?? 'default';
  const base = splitImage(c.image).path;
  return [
    { description: `Check from a machine with access to ${c.ref.registry} whether this reference exists (and list the tags it has)`, command: `docker manifest inspect ${shellQuote(c.image)}` },
    {
      description: 'Point the workload at a tag that exists (or fix the repository path)',
      command: `kubectl set image ${kubectl.target(c.pod, c.index)} -n ${ns} ${c.view.status.name}=${shellQuote(base)}:<existing-tag>`,
    },
  ];
}

/** Credentials: (re)create a docker-registry secret for the registry and make the pod use it. */
function credentialSteps(c: PullContext): RemediationStep[] {
  const ns = c.pod.metadata.namespace ?? 'default';
  const server = dockerServer(c.ref.registry);
  const existing = c.secrets[0];
  if (existing) {
    return [
      { description: `The pod already uses pull secret${c.secrets.length > 1 ? 's' : ''} ${c.secrets.join(', ')}: check it is of type kubernetes.io/dockerconfigjson and holds credentials for ${c.ref.registry}`, command: `kubectl get secret ${existing} -n ${ns}` },
      {
        description: `Replace it with valid credentials for ${c.ref.registry} (a token with pull access to ${c.ref.repository})`,
        command: `kubectl create secret docker-registry ${existing} -n ${ns} --docker-server=${shellQuote(server)} --docker-username=<user> --docker-password=<token> --dry-run=client -o yaml | kubectl apply -f -`,
      },
      recreateStep(c.pod, c.index),
    ];
  }
  return [
    { description: `Create a pull secret with credentials for ${c.ref.registry}`, command: `kubectl create secret docker-registry regcred -n ${ns} --docker-server=${shellQuote(server)} --docker-username=<user> --docker-password=<token>` },
    {
      description: `Let service account ${c.serviceAccount} use it for every pod (this replaces the account's imagePullSecrets list; or add imagePullSecrets to the pod template instead)`,
      command: `kubectl patch serviceaccount ${c.serviceAccount} -n ${ns} -p '{"imagePullSecrets":[{"name":"regcred"}]}'`,
    },
    recreateStep(c.pod, c.index),
  ];
}

/** The verdict for one cause: title suffix, explanation, remediation, confidence. */
function verdict(c: PullContext, cause: PullCause, ambiguous: boolean): { what: string; explanation: string; remediation: RemediationStep[]; confidence: number } {
  const name = c.view.status.name;
  const node = c.pod.spec?.nodeName;
  const secretsText = c.secrets.length ? `The pod uses pull secret${c.secrets.length > 1 ? 's' : ''} ${c.secrets.join(', ')}` : `The pod has no imagePullSecrets (service account ${c.serviceAccount} adds none)`;
  switch (cause) {
    case 'not-found':
      if (ambiguous) {
        return {
          what: 'repository not found or access denied',
          explanation: `${c.ref.registry} refused ${c.image} with "pull access denied ... repository does not exist or may require authorization". Docker Hub gives that same answer for two different problems: the repository (or tag) does not exist, or it is private and the pull carried no valid credentials. Nothing else in the messages mentions credentials, so a wrong name or tag is the likelier cause. ${secretsText}.`,
          remediation: [...fixTagSteps(c), ...credentialSteps(c)],
          confidence: 0.7,
        };
      }
      return {
        what: 'image not found',
        explanation: `${c.ref.registry} answered that ${c.image} does not exist: the tag (or the repository path) is wrong, or the image was never pushed or has been deleted. The kubelet keeps retrying with a growing back-off, and the container cannot start until the reference points at an image that exists.`,
        remediation: fixTagSteps(c),
        confidence: 0.95,
      };
    case 'unauthorized':
      return {
        what: 'registry refused the credentials',
        explanation: `${c.ref.registry} refused to serve ${c.image} to this node: the pull carried no credentials, or wrong or expired ones, or the account has no pull access to ${c.ref.repository}. ${secretsText}.${ambiguous ? ' The registry\'s "repository does not exist or may require authorization" answer, read together with the authentication error, points at credentials rather than a missing image.' : ''}`,
        remediation: credentialSteps(c),
        confidence: ambiguous ? 0.8 : 0.9,
      };
    case 'rate-limited':
      return {
        what: 'registry pull rate limit reached',
        explanation: `${c.ref.registry} refused the pull with 429 Too Many Requests: the node's address (often a shared NAT address for the whole cluster) has used up the registry's pull allowance. Anonymous Docker Hub pulls have the lowest limit. The pull succeeds once the window resets, but any restart or new node hits it again.`,
        remediation: [
          { description: `Authenticate the pulls (an account's limit is higher than the anonymous one): create a pull secret for ${c.ref.registry}`, command: `kubectl create secret docker-registry regcred -n ${c.pod.metadata.namespace ?? 'default'} --docker-server=${shellQuote(dockerServer(c.ref.registry))} --docker-username=<user> --docker-password=<token>` },
          { description: `Use it for service account ${c.serviceAccount}`, command: `kubectl patch serviceaccount ${c.serviceAccount} -n ${c.pod.metadata.namespace ?? 'default'} -p '{"imagePullSecrets":[{"name":"regcred"}]}'` },
          { description: 'Or mirror the image into a registry you control (or configure a pull-through cache on the nodes) and point the workload at the copy', command: `kubectl set image ${kubectl.target(c.pod, c.index)} -n ${c.pod.metadata.namespace ?? 'default'} ${name}=<mirror-registry>/${shellQuote(`${c.ref.repository}:${c.ref.tag ?? 'latest'}`)}` },
          { description: `Avoid needless pulls: imagePullPolicy is ${c.view.spec?.imagePullPolicy ?? 'unset'}; IfNotPresent with a pinned tag reuses the node's copy` },
        ],
        confidence: 0.95,
      };
    case 'network':
      return {
        what: 'registry unreachable from the node',
        explanation: `The node${node ? ` ${node}` : ''} could not talk to ${c.ref.registry}: the name does not resolve, the connection times out or is refused, or the registry's TLS certificate is not trusted (x509). The image itself may be fine; the problem is between the node and the registry (DNS, firewall, proxy, or a private CA the container runtime does not know).`,
        remediation: [
          ...(node
            ? [
                { description: `Reproduce the pull on the node itself (needs a working kubelet on ${node})`, command: `kubectl debug node/${node} -it --image=busybox:1.36 -- chroot /host crictl pull ${shellQuote(c.image)}` },
                { description: `Check DNS and the route to ${c.ref.registry} from the node`, command: `kubectl debug node/${node} -it --image=busybox:1.36 -- nslookup ${shellQuote(c.ref.registry.replace(/:\d+$/, ''))}` },
              ]
            : []),
          { description: `If the nodes reach the internet through a proxy, set HTTPS_PROXY / NO_PROXY for the container runtime; for a private CA (x509: certificate signed by unknown authority), add it to the runtime's trust for ${c.ref.registry} (containerd: /etc/containerd/certs.d/${c.ref.registry}/hosts.toml)` },
        ],
        confidence: 0.85,
      };
    default:
      return {
        what: 'pull failing',
        explanation: `The kubelet cannot pull ${c.image} and is backing off between attempts, but the events kdiag read do not say why (the Failed event with the registry's answer may have expired).`,
        remediation: [
          { description: 'Read the pull error in the pod\'s events', command: kubectl.podEvents(c.pod) },
          { description: 'Check the image reference and the pull secrets', command: kubectl.describePod(c.pod) },
        ],
        confidence: 0.5,
      };
  }
}

/**
 * A container (or init container) waits in ErrImagePull or ImagePullBackOff: the kubelet cannot pull
 * its image. The registry's answer, in the waiting message and the kubelet's Failed events, says why.
 */
const rule: Rule = {
  id: 'image-pull-back-off',
  title: 'Container image cannot be pulled (ErrImagePull / ImagePullBackOff)',
  severity: 'critical',
  description:
    'The kubelet cannot pull the container\'s image, so the container never starts; between attempts it backs off (ImagePullBackOff). The registry\'s answer tells the cause: the image or tag does not exist, the credentials are missing or wrong, the registry\'s pull rate limit was reached, or the node cannot reach the registry.',
  detection:
    'state.waiting.reason ErrImagePull or ImagePullBackOff on a container or init container. The waiting message and the kubelet\'s Failed ("Failed to pull image ...") and BackOff ("Back-off pulling image ...") events give the registry\'s answer: manifest unknown / not found, 401 Unauthorized / 403 Forbidden / denied, toomanyrequests / 429, i/o timeout / no such host / x509. Docker Hub\'s "pull access denied ... repository does not exist or may require \'docker login\'" is read as not-found unless something else mentions credentials. imagePullSecrets and serviceAccountName are evidence.',
  remediation: [
    { description: 'Read the registry\'s answer in the Failed events', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Not found: point the workload at a tag that exists', command: 'kubectl set image deployment/NAME -n NAMESPACE CONTAINER=IMAGE:TAG' },
    { description: 'Unauthorized: create a pull secret and let the service account use it', command: 'kubectl create secret docker-registry regcred -n NAMESPACE --docker-server=REGISTRY --docker-username=USER --docker-password=TOKEN' },
    { description: 'Rate limited: authenticate the pulls, or mirror the image into your own registry' },
    { description: 'Network: check DNS, proxy and the registry\'s CA from the node' },
  ],
  match: ({ index }) => {
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      if (pod.metadata.deletionTimestamp) continue;
      for (const view of containers(pod)) {
        const waiting = view.status.state?.waiting;
        if (waiting?.reason !== 'ErrImagePull' && waiting?.reason !== 'ImagePullBackOff') continue;
        const name = view.status.name;
        const image = view.spec?.image ?? view.status.image ?? '';
        const events = pullEvents(index, pod, name);
        const failures = events.filter((event) => event.reason === 'Failed' && /^Failed to pull image/i.test(event.message ?? ''));
        const backoffs = events.filter((event) => event.reason === 'BackOff');
        const { cause, ambiguous } = classify([waiting.message ?? '', ...failures.map((event) => event.message ?? '')]);
        const secrets = (pod.spec?.imagePullSecrets ?? []).map((s) => s.name).filter((s): s is string => !!s);
        const serviceAccount = pod.spec?.serviceAccountName ?? 'default';
        const c: PullContext = { view, pod, index, image, ref: parseImage(image), secrets, serviceAccount };

        const evidence = [`state.waiting.reason=${waiting.reason}`];
        if (waiting.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message, MAX_TEXT)}`);
        evidence.push(`image: ${image}${view.spec?.imagePullPolicy ? ` (imagePullPolicy ${view.spec.imagePullPolicy})` : ''}`);
        // Distinct registry answers, newest last; then the latest back-off.
        const seen = new Set<string>();
        const distinct = [...failures].reverse().filter((event) => {
          const text = event.message ?? '';
          if (seen.has(text)) return false;
          seen.add(text);
          return true;
        });
        evidence.push(...distinct.slice(0, 3).reverse().map(pullEvidence));
        evidence.push(...backoffs.slice(-1).map(eventEvidence));
        evidence.push(secrets.length ? `spec.imagePullSecrets: ${secrets.join(', ')}` : 'spec.imagePullSecrets: none');
        evidence.push(`spec.serviceAccountName=${serviceAccount}`);
        if (view.init) evidence.push('init container: the pod cannot start until it runs');

        const v = verdict(c, cause, ambiguous);
        findings.push({
          severity: 'critical',
          title: `${view.init ? 'Init container' : 'Container'} ${name} cannot pull ${image}: ${v.what}`,
          object: podRef(pod, name),
          evidence,
          explanation: v.explanation,
          remediation: v.remediation,
          confidence: v.confidence,
          cause,
        });
      }
    }
    return findings;
  },
};

export default rule;
