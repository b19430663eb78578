import type { Condition, KubeEvent, Node, Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { eventEvidence, kubectl, msSince, nodeEvents, podRef } from '../src/model/pod.js';
import { age, firstLine, shellQuote } from '../src/model/text.js';
import { eventsAboutNodes, podsOnNodes } from '../src/model/retain.js';

/** Which resource the node is short of. */
type PressureCause = 'memory' | 'disk' | 'pids' | 'network';

interface PressureKind {
  condition: string;
  cause: PressureCause;
  /** The taint the node lifecycle controller adds while the condition is True (taint-nodes-by-condition). */
  taint: string;
  /** Node events that tell the same story (kubelet eviction manager, image GC, route controller). */
  events: RegExp;
  /** The resource the kubelet's EvictionThresholdMet / Evicted messages name. */
  resource: RegExp;
}

const KINDS: PressureKind[] = [
  { condition: 'MemoryPressure', cause: 'memory', taint: 'node.kubernetes.io/memory-pressure', events: /^(NodeHasInsufficientMemory|EvictionThresholdMet|SystemOOM)$/, resource: /memory/ },
  { condition: 'DiskPressure', cause: 'disk', taint: 'node.kubernetes.io/disk-pressure', events: /^(NodeHasDiskPressure|EvictionThresholdMet|FreeDiskSpaceFailed|ImageGCFailed)$/, resource: /ephemeral-storage|nodefs|imagefs|disk|images/ },
  { condition: 'PIDPressure', cause: 'pids', taint: 'node.kubernetes.io/pid-pressure', events: /^(NodeHasInsufficientPID|EvictionThresholdMet)$/, resource: /pids?\b/ },
  { condition: 'NetworkUnavailable', cause: 'network', taint: 'node.kubernetes.io/network-unavailable', events: /^(FailedToCreateRoute|NodeHasNetworkUnavailable)$/, resource: /./ },
];

/** A pod the kubelet evicted: phase Failed, reason Evicted, and the message saying what ran short. */
function isEvicted(pod: Pod): boolean {
  return pod.status?.reason === 'Evicted';
}

/** `Container cart was using 1843Mi, request is 256Mi`: the container the kubelet blamed, from its eviction message. */
function blamed(message: string | undefined): { container: string; using: string; request: string } | undefined {
  const m = message?.match(/Container (\S+) was using (\S+), (?:request is|which exceeds its request of) (\S+?)[,.]/);
  return m ? { container: m[1]!, using: m[2]!, request: m[3]! } : undefined;
}

/** Eviction events the kubelets of these nodes filed (their pods may be gone from the snapshot already). */
function evictionEvents(index: SnapshotIndex, nodes: ReadonlySet<string>): KubeEvent[] {
  return index.snapshot.events.filter((e) => e.reason === 'Evicted' && e.involvedObject.kind === 'Pod' && e.source?.host !== undefined && nodes.has(e.source.host));
}

/** Whether the node reports one of the conditions this rule is about. */
function pressed(node: Node): boolean {
  return KINDS.some((kind) => node.status?.conditions?.some((c) => c.type === kind.condition && c.status === 'True'));
}

function conditionEvidence(c: Condition, now: number): string[] {
  const since = msSince(c.lastTransitionTime, now);
  return [
    `node condition ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${firstLine(c.message)}` : ''}`,
    ...(c.lastTransitionTime ? [`${c.type}.lastTransitionTime=${c.lastTransitionTime}${since !== undefined ? ` (${age(since)} before the snapshot)` : ''}`] : []),
  ];
}

/** The pods that use most of the resource on the node, from the kubelet's summary API (needs jq). */
function usageStep(name: string, cause: PressureCause): RemediationStep | undefined {
  const field = cause === 'memory' ? '.memory.workingSetBytes' : cause === 'disk' ? '."ephemeral-storage".usedBytes' : cause === 'pids' ? '.process_stats.process_count' : undefined;
  if (!field) return undefined;
  const what = cause === 'memory' ? 'memory (working set)' : cause === 'disk' ? 'ephemeral storage (logs, emptyDir, writable layers)' : 'processes';
  return {
    description: `List the pods on ${name} by ${what}, from the kubelet's summary API`,
    command: `kubectl get --raw /api/v1/nodes/${name}/proxy/stats/summary | jq -r '.pods[] | "\\(${field} // 0) \\(.podRef.namespace)/\\(.podRef.name)"' | sort -rn | head`,
  };
}

/** The systemd unit and data directory of the node's container runtime, from nodeInfo.containerRuntimeVersion. */
function runtimeDir(node: Node): string {
  const runtime = node.status?.nodeInfo?.containerRuntimeVersion ?? '';
  if (runtime.startsWith('cri-o://')) return '/var/lib/containers';
  if (runtime.startsWith('docker://')) return '/var/lib/docker';
  return '/var/lib/containerd';
}

/**
 * A node whose kubelet reports MemoryPressure, DiskPressure or PIDPressure, or whose pod network is
 * not set up (NetworkUnavailable). Under pressure the kubelet evicts pods to reclaim the resource,
 * and the node lifecycle controller taints the node so nothing new is scheduled there.
 */
const rule: Rule = {
  id: 'node-pressure',
  title: 'Node under memory, disk or PID pressure, or without pod network',
  severity: 'warning',
  description:
    'The kubelet reports that a node is short of memory, disk (its root or image filesystem) or process IDs, past its eviction thresholds: it evicts pods to reclaim the resource (those using most above their requests first), and the node is tainted so no new pod lands there. NetworkUnavailable means the node\'s pod network was never set up (the cloud route controller failed to create its route, or the network plugin marked it), so its pods cannot reach other nodes.',
  detection:
    'node.status.conditions MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable with status True (KubeletHasInsufficientMemory, KubeletHasDiskPressure, KubeletHasInsufficientPID, NoRouteCreated), lastTransitionTime against the capture time, the node.kubernetes.io/memory-pressure, disk-pressure, pid-pressure and network-unavailable taints, node events (EvictionThresholdMet, FreeDiskSpaceFailed, ImageGCFailed, FailedToCreateRoute), pods on the node with status.reason Evicted and Evicted events from its kubelet. Every pod on the node that has not finished is affected.',
  remediation: [
    { description: 'Read the node\'s conditions, taints, allocated requests and the pods on it', command: 'kubectl describe node NODE' },
    { description: 'Memory: set memory requests near real use (pods above their requests are evicted first) and limits' },
    { description: 'Disk: free space (unused images, logs, emptyDir data) and set ephemeral-storage requests/limits', command: 'sudo crictl rmi --prune' },
    { description: 'PIDs: find the process that leaks threads or processes; cap PIDs per pod (kubelet podPidsLimit)' },
    { description: 'Network: check the route controller\'s events and the network plugin\'s pod on the node', command: 'kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=NODE' },
  ],
  scope: 'cluster',
  // Every pod on a node under pressure, the nodes' events, and the Evicted events their kubelets filed.
  retain: (context) => {
    const hosts = new Set<string>();
    for (const node of context.snapshot.nodes) if (node.metadata.name && pressed(node)) hosts.add(node.metadata.name);
    if (hosts.size === 0) return { events: eventsAboutNodes(context) };
    return { pods: podsOnNodes(context, hosts), events: [...eventsAboutNodes(context), ...evictionEvents(context.index, hosts)] };
  },
  match: ({ snapshot, index, now }) => {
    const findings: Finding[] = [];
    for (const node of snapshot.nodes) {
      const name = node.metadata.name;
      if (!name) continue;
      for (const kind of KINDS) {
        const condition = node.status?.conditions?.find((c) => c.type === kind.condition && c.status === 'True');
        if (!condition) continue;
        const pods = index.podsOnNode(name).filter((pod) => pod.status?.phase !== 'Succeeded');
        const evicted = kind.cause === 'network' ? [] : pods.filter((pod) => isEvicted(pod) && kind.resource.test(pod.status?.message ?? ''));
        const evictedNames = new Set(evicted.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`));
        const otherEvictions = kind.cause === 'network' ? [] : evictionEvents(index, new Set([name])).filter((e) => kind.resource.test(e.message ?? '') && !evictedNames.has(`${e.involvedObject.namespace ?? e.metadata.namespace}/${e.involvedObject.name}`));
        const since = msSince(condition.lastTransitionTime, now);

        const evidence = conditionEvidence(condition, now);
        const taint = node.spec?.taints?.find((t) => t.key === kind.taint);
        if (taint) evidence.push(`taint ${taint.key}:${taint.effect}${taint.timeAdded ? ` (added ${taint.timeAdded})` : ''}`);
        const allocatable = node.status?.allocatable;
        if (kind.cause === 'memory' && allocatable?.memory) evidence.push(`allocatable memory=${allocatable.memory}${node.status?.capacity?.memory ? ` of capacity ${node.status.capacity.memory}` : ''}`);
        if (kind.cause === 'disk' && allocatable?.['ephemeral-storage']) evidence.push(`allocatable ephemeral-storage=${allocatable['ephemeral-storage']}${node.status?.capacity?.['ephemeral-storage'] ? ` of capacity ${node.status.capacity['ephemeral-storage']}` : ''}`);
        if (kind.cause === 'network' && node.spec?.podCIDR) evidence.push(`spec.podCIDR=${node.spec.podCIDR}`);
        const related = nodeEvents(index, name).filter((e) => kind.events.test(e.reason ?? '') && (e.reason !== 'EvictionThresholdMet' || kind.resource.test(e.message ?? '')));
        evidence.push(...related.slice(-3).map(eventEvidence));
        for (const pod of evicted.slice(0, 3)) evidence.push(`pod ${pod.metadata.namespace}/${pod.metadata.name} evicted: ${firstLine(pod.status?.message, 240)}`);
        for (const event of otherEvictions.slice(-2)) evidence.push(`${event.involvedObject.namespace ?? event.metadata.namespace}/${event.involvedObject.name}: ${eventEvidence(event)}`);
        const evictions = evicted.length + otherEvictions.length;
        const podNames = pods.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
        evidence.push(
          pods.length
            ? `${pods.length} pod${pods.length === 1 ? '' : 's'} of the snapshot on the node: ${podNames.slice(0, 8).join(', ')}${podNames.length > 8 ? ` and ${podNames.length - 8} more` : ''}`
            : 'no pod of the snapshot runs on the node',
        );

        const during = since !== undefined ? ` for ${age(since)}` : '';
        const evictedText = evictions ? ` The kubelet has evicted ${evictions} pod${evictions === 1 ? '' : 's'} so far${evicted.length ? ` (${evicted.map((p) => p.metadata.name).slice(0, 3).join(', ')}${evicted.length > 3 ? ', ...' : ''})` : ''}.` : '';
        const blame = evicted.map((pod) => ({ pod, who: blamed(pod.status?.message) })).find((x) => x.who);
        const explanations: Record<PressureCause, string> = {
          memory: `The kubelet on ${name} sees available memory below its eviction threshold (memory.available)${during}. It evicts pods to get memory back, first those using the most memory above their requests (BestEffort, then Burstable), and the node is tainted so no new pod is scheduled there.${evictedText}${blame?.who ? ` It blamed container ${blame.who.container}, which used ${blame.who.using} against a request of ${blame.who.request}.` : ''}`,
          disk: `The kubelet on ${name} sees too little free disk${during} on its root filesystem (container logs, emptyDir volumes, writable layers) or its image filesystem. It removes unused images and dead containers first, then evicts pods by their ephemeral-storage use, and the node is tainted so no new pod is scheduled there.${evictedText}`,
          pids: `The kubelet on ${name} sees the node running out of process IDs${during}: processes and threads are close to the kernel's pid_max. New processes (and containers) fail to start; the kubelet evicts pods to free PIDs, and the node is tainted so no new pod is scheduled there.${evictedText}`,
          network: `${name}'s pod network is not set up${during} (${condition.reason ?? 'NetworkUnavailable'}${condition.message ? `: ${firstLine(condition.message, 160)}` : ''}): on clouds whose routes carry pod traffic the route controller has not created the route for its pod CIDR, or the network plugin has marked it unavailable. Pods there cannot reach pods on other nodes, and the node is tainted network-unavailable so no new pod is scheduled there.`,
        };

        const remediation: RemediationStep[] = [{ description: 'Read the node\'s conditions, taints, allocated requests and the pods on it', command: kubectl.describeNode(name) }];
        const usage = usageStep(name, kind.cause);
        if (usage) remediation.push(usage);
        if (kind.cause === 'memory') {
          if (blame?.who) {
            const owner = index.ownerOf(blame.pod);
            const target = owner && owner.kind !== 'ReplicaSet' ? `${owner.kind.toLowerCase()}/${owner.name}` : `pod/${blame.pod.metadata.name}`;
            remediation.push({
              description: `Set ${blame.who.container}'s memory request near what it really uses (it used ${blame.who.using}, requests ${blame.who.request}); pods above their requests are evicted first`,
              command: `kubectl set resources ${target} -n ${shellQuote(blame.pod.metadata.namespace ?? 'default')} -c ${blame.who.container} --requests=memory=<value> --limits=memory=<value>`,
            });
          } else {
            remediation.push({ description: 'Set memory requests near real use and memory limits on the pods that use the most: pods above their requests are evicted first' });
          }
          remediation.push({ description: 'Keep memory back for the system (kubelet systemReserved / kubeReserved) so the node itself stays healthy, or move to larger nodes' });
        } else if (kind.cause === 'disk') {
          remediation.push({ description: `On ${name}: see which filesystem is full`, command: `df -h / /var/lib/kubelet ${runtimeDir(node)} /var/log` });
          remediation.push({ description: `On ${name}: remove images no container uses`, command: 'sudo crictl rmi --prune' });
          remediation.push({ description: 'Give pods that write to disk ephemeral-storage requests and limits, and cap emptyDir with sizeLimit' });
        } else if (kind.cause === 'pids') {
          remediation.push({ description: `On ${name}: find the processes with the most threads, and the limit`, command: 'ps -eo pid,nlwp,comm --sort=-nlwp | head; cat /proc/sys/kernel/pid_max' });
          remediation.push({ description: 'Cap PIDs per pod with the kubelet\'s podPidsLimit, and fix the process that leaks threads or processes' });
        } else {
          remediation.push({ description: `Read the route controller's and the kubelet's events about ${name}`, command: `kubectl get events -A --field-selector involvedObject.kind=Node,involvedObject.name=${name} --sort-by=.lastTimestamp` });
          remediation.push({ description: `Check the network plugin's pod on ${name}`, command: `kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=${name}` });
          remediation.push({ description: 'On a cloud that routes pod CIDRs: check the VPC route table (a full route table or missing permissions stop the route controller)' });
        }

        const title =
          kind.cause === 'network'
            ? `Node ${name} has no pod network${during} (NetworkUnavailable${condition.reason ? `: ${condition.reason}` : ''}; ${pods.length} pod${pods.length === 1 ? '' : 's'} on it)`
            : `Node ${name} is under ${kind.cause === 'pids' ? 'PID' : kind.cause} pressure${during} (${evictions ? `${evictions} pod${evictions === 1 ? '' : 's'} evicted, ` : ''}${pods.length} pod${pods.length === 1 ? '' : 's'} on it)`;
        findings.push({
          severity: 'warning',
          title,
          object: { kind: 'Node', namespace: null, name },
          evidence,
          explanation: explanations[kind.cause],
          remediation,
          confidence: kind.cause === 'network' ? 0.85 : 0.9,
          cause: kind.cause,
          affected: pods.map((pod) => podRef(pod)),
        });
      }
    }
    return findings;
  },
};

export default rule;
