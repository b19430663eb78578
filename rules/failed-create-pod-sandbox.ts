import type { KubeEvent, Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { PodName, SnapshotIndex } from '../src/model/snapshot-index.js';
import { eventEvidence, eventsWithReason, kubectl, msSincePlaced, podRef, startFailurePassed, waitingToStart } from '../src/model/pod.js';
import { eventCount } from '../src/model/snapshot-index.js';
import { age, firstLine } from '../src/model/text.js';

/** Why the runtime cannot create the pod sandbox. */
type SandboxCause = 'cni' | 'ip-exhausted' | 'sandbox-image' | 'other';

/** A pod placed less than this ago may still get its sandbox (a CNI warming its IP pool, a node still starting). */
const YOUNG_MS = 2 * 60 * 1000;

// The IPAM plugins' words for an empty pool: host-local ("no IP addresses available in range set"),
// the AWS VPC CNI ("failed to assign an IP address to container"), Calico ("no more free affinity
// blocks", "cannot allocate"), Azure CNI ("No available addresses").
const IP_EXHAUSTED = /no IP addresses available|failed to allocate for range|failed to assign an IP address|no (?:more )?free (?:affinity )?blocks|IPAM.*(?:exhausted|no available)|no available (?:IP )?addresses|ip pool.*(?:exhausted|full)|out of IP/i;
// containerd "failed to get sandbox image", CRI-O pulling its pause image ("pause:3.9"), dockershim's "pause" container.
const SANDBOX_IMAGE = /sandbox image|pause(?:[-_]\w+)?:[\w.-]+|pause image|infra image/i;
const CNI = /failed to setup network for sandbox|failed to set up sandbox container .* network|networkPlugin cni|plugin type="|\bCNI\b|cni plugin|cni config|network for pod/i;

/** The sub-cause one message names, most specific first. */
function classify(message: string): SandboxCause {
  if (IP_EXHAUSTED.test(message)) return 'ip-exhausted';
  if (SANDBOX_IMAGE.test(message) && !/failed to setup network/i.test(message)) return 'sandbox-image';
  if (CNI.test(message)) return 'cni';
  return 'other';
}

/** The CNI plugin a message names: `plugin type="calico"`, or undefined. */
function plugin(message: string): string | undefined {
  return message.match(/plugin type="([^"]+)"/)?.[1];
}

/** The part of a sandbox error after the runtime's prefixes: what the plugin or the pull said. */
function detail(message: string): string {
  const text = firstLine(message, 400);
  const add = text.match(/failed \((?:add|delete)\): (.*)$/);
  if (add) return add[1]!;
  const desc = text.match(/desc = (.*)$/);
  return desc ? desc[1]! : text;
}

/** Where a failed image pull ends: the network or registry error after the runtime's "failed to ..." prefixes. */
function pullError(message: string): string {
  const tail = message.match(/(dial tcp \S+: .*|lookup \S+.*|x509: .*|unexpected status.*|[^:"]+: not found.*)$/i)?.[1];
  return tail ? firstLine(tail, 200) : firstLine(detail(message), 200);
}

/** The network plugin's own pod on the node, when the snapshot has it (calico-node-x, aws-node-x, cilium-x, kube-flannel-ds-x). */
function pluginPod(index: SnapshotIndex, node: string, name: string | undefined): PodName | undefined {
  const words = ['calico-node', 'aws-node', 'cilium', 'kube-flannel', 'flannel', 'weave-net', 'antrea-agent', 'kube-ovn-cni', ...(name ? [name] : [])];
  // By name, in any namespace of the sweep: the plugin's own pod is usually in kube-system.
  return index.podNamesOnNode(node).find((p) => words.some((w) => (p.name ?? '').startsWith(`${w}-`)));
}

function verdict(index: SnapshotIndex, pod: Pod, cause: SandboxCause, event: KubeEvent, node: string | undefined): { what: string; explanation: string; remediation: RemediationStep[] } {
  const message = event.message ?? '';
  const on = node ? `on ${node}` : 'on its node';
  const nodeSteps: RemediationStep[] = node
    ? [
        { description: `Check the network plugin's pods (calico-node, aws-node, cilium, flannel...) on ${node}`, command: `kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=${node}` },
        { description: `Read ${node}'s conditions and events`, command: kubectl.describeNode(node) },
      ]
    : [];
  switch (cause) {
    case 'ip-exhausted': {
      const steps: RemediationStep[] = [];
      if (node) steps.push({ description: `Count the pods on ${node}: each takes an address from the node's range`, command: `kubectl get pods -A -o wide --field-selector spec.nodeName=${node}` });
      steps.push(...nodeSteps);
      return {
        what: `no pod IP address left ${on}`,
        explanation: `The network plugin${plugin(message) ? ` (${plugin(message)})` : ''} has no IP address left to give the pod ${on}: ${detail(message)}. The node's pod range (or, on AWS, the ENI addresses the instance type allows) is used up, or addresses of deleted pods were never released (a known leak after plugin crashes). The pod stays in ContainerCreating until an address frees up.`,
        remediation: steps,
      };
    }
    case 'sandbox-image': {
      const image = message.match(/sandbox image "([^"]+)"/)?.[1] ?? message.match(/"((?:[\w.-]+\/)*pause(?:[-_]\w+)?:[\w.-]+)"/)?.[1];
      const steps: RemediationStep[] = [...nodeSteps];
      steps.push({ description: `On ${node ?? 'the node'}: try to pull the sandbox image the runtime is configured with`, command: `sudo crictl pull ${image ?? 'registry.k8s.io/pause:3.9'}` });
      return {
        what: `the runtime cannot pull its sandbox image${image ? ` ${image}` : ''} ${on}`,
        explanation: `Every pod starts with a sandbox ("pause") container, and the container runtime ${on} cannot get its image${image ? ` ${image}` : ''}: the pull ends in ${pullError(message)}. The node cannot reach the registry (egress, proxy, a private mirror without the image) or the runtime's sandbox_image setting names an image that does not exist. Every new pod on this node fails the same way.`,
        remediation: steps,
      };
    }
    case 'cni': {
      const name = plugin(message);
      const unauthorized = /unauthorized|forbidden/i.test(message);
      let explanation = `The container runtime ${on} cannot set up the pod's network: the CNI plugin${name ? ` ${name}` : ''} fails: ${detail(message)}.`;
      if (unauthorized) explanation += ' The plugin cannot authenticate to the API server: its service-account token (kept on the node by the plugin\'s daemonset pod) has expired or was revoked, which happens when that pod is stuck or was not restarted after a token or CA rotation. Restarting the plugin\'s pod on the node usually renews it.';
      else explanation += ' The network plugin\'s daemonset pod on the node is usually not running or not ready (crash-looping, being upgraded), or its configuration in /etc/cni/net.d is missing or broken.';
      const steps = [...nodeSteps];
      const own = node ? pluginPod(index, node, name) : undefined;
      if (own && unauthorized) steps.push({ description: `Restart ${own.name} so that it writes a fresh token for the plugin (its DaemonSet recreates it)`, command: `kubectl delete pod -n ${own.namespace ?? 'kube-system'} ${own.name}` });
      else if (own) steps.push({ description: `Read the log of ${own.name}, the network plugin's pod on the node`, command: `kubectl logs -n ${own.namespace ?? 'kube-system'} ${own.name} --all-containers` });
      return { what: `the network plugin${name ? ` ${name}` : ''} fails ${on}`, explanation, remediation: steps };
    }
    default: {
      const handler = message.match(/no runtime for "([^"]+)" is configured/)?.[1];
      if (handler)
        return {
          what: `runtime handler ${handler} is not configured ${on}`,
          explanation: `The pod asks for a RuntimeClass whose handler is ${handler}, and the container runtime ${on} has no runtime of that name configured (${detail(message)}). Install and configure that runtime on the node, or keep the pod on nodes that have it with the RuntimeClass's scheduling.nodeSelector.`,
          remediation: [
            { description: 'See the RuntimeClasses, their handlers and node selectors', command: 'kubectl get runtimeclass -o wide' },
            ...(node ? [{ description: `Read ${node}'s labels and runtime version`, command: kubectl.describeNode(node) }] : []),
          ],
        };
      return {
        what: `the pod sandbox cannot be created ${on}`,
        explanation: `The container runtime ${on} cannot create the pod's sandbox: ${detail(message)}. The runtime on the node, its runtime class handler or its configuration is failing.`,
        remediation: [...nodeSteps, { description: `On ${node ?? 'the node'}: read the container runtime's log`, command: 'sudo journalctl -u containerd -n 200 --no-pager' }],
      };
    }
  }
}

/**
 * A pod placed on a node whose container runtime cannot create its sandbox (the pause container and
 * its network namespace): the network plugin fails, has no IP address left, or the sandbox image
 * cannot be pulled. No container of the pod can start until it succeeds.
 */
const rule: Rule = {
  id: 'failed-create-pod-sandbox',
  title: 'Pod cannot start: its sandbox (network) cannot be created',
  severity: 'critical',
  description:
    'Before any container runs, the runtime creates the pod sandbox and the CNI plugin gives it a network and an IP address. When that fails (a network plugin that is down or cannot reach the API server, an exhausted pod IP range, a sandbox image the node cannot pull) the pod stays in ContainerCreating and the kubelet retries with FailedCreatePodSandBox events. It is a problem of the node, so every new pod there fails the same way.',
  detection:
    'Pods placed on a node whose containers all wait in ContainerCreating / PodInitializing, with FailedCreatePodSandBox events from the kubelet ("Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "...": plugin type="calico" failed (add): ..."). The message gives the cause: IP exhaustion ("no IP addresses available in range set", "failed to assign an IP address to container"), the sandbox image ("failed to get sandbox image "registry.k8s.io/pause:3.9""), or another CNI error. A later container event (Pulling, Created, Started) makes it history. Pods placed less than 2 minutes ago are a warning.',
  supersedes: ['pod-pending'],
  remediation: [
    { description: 'Check the network plugin\'s daemonset pods on the node', command: 'kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=NODE' },
    { description: 'Read the node\'s conditions and events', command: 'kubectl describe node NODE' },
    { description: 'IP exhaustion: spread pods to other nodes, raise the per-node pod limit only with a larger range, or fix the leaked addresses' },
    { description: 'Sandbox image: on the node, check that the runtime can pull it', command: 'sudo crictl pull registry.k8s.io/pause:3.9' },
  ],
  scope: 'cluster',
  // The pods that may be failing (with all their events); the plugin's pod on a node is found by
  // name among every pod of the sweep.
  retain: ({ snapshot, index }) => {
    const pods = index.suspects.filter((pod) => waitingToStart(pod) && eventsWithReason(index, pod, 'FailedCreatePodSandBox').length > 0);
    return { pods, events: pods.flatMap((pod) => index.podEvents(pod)) };
  },
  match: ({ snapshot, index, now }) => {
    const findings: Finding[] = [];
    for (const pod of snapshot.pods) {
      if (!waitingToStart(pod)) continue;
      const events = eventsWithReason(index, pod, 'FailedCreatePodSandBox').filter((e) => !startFailurePassed(index, pod, e));
      const latest = events[events.length - 1];
      if (!latest) continue;
      const cause = classify(latest.message ?? '');
      const node = pod.spec?.nodeName ?? latest.source?.host;
      const v = verdict(index, pod, cause, latest, node);
      const placed = msSincePlaced(pod, now);
      const young = placed !== undefined && placed < YOUNG_MS;
      const attempts = events.reduce((sum, e) => sum + eventCount(e), 0);
      const evidence = events.slice(-3).map(eventEvidence);
      if (node) evidence.push(`spec.nodeName=${node}`);
      if (plugin(latest.message ?? '')) evidence.push(`CNI plugin ${plugin(latest.message ?? '')}: ${firstLine(detail(latest.message ?? ''), 300)}`);
      else if (cause === 'sandbox-image') evidence.push(`sandbox image pull: ${pullError(latest.message ?? '')}`);
      if (placed !== undefined) evidence.push(`placed ${age(placed)} before the snapshot; ${attempts} failed sandbox attempt(s)`);
      const ready = index.node(node)?.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready) evidence.push(`node condition Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}`);
      let explanation = v.explanation;
      if (young) explanation += ` The pod was placed only ${age(placed ?? 0)} ago, so it may still start.`;
      findings.push({
        severity: young ? 'warning' : 'critical',
        title: `Pod ${pod.metadata.name} cannot start: ${v.what}`,
        object: podRef(pod),
        evidence,
        explanation,
        remediation: [...v.remediation, { description: 'Read the pod\'s events', command: kubectl.podEvents(pod) }],
        confidence: cause === 'other' ? 0.7 : 0.9,
        cause,
      });
    }
    return findings;
  },
};

export default rule;
