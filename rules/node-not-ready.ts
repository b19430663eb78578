import type { Condition, KubeEvent, Node } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { eventEvidence, kubectl, msSince, podRef } from '../src/model/pod.js';
import { controllerOf, eventTime } from '../src/model/snapshot-index.js';
import { age, firstLine } from '../src/model/text.js';
import { eventsAboutNodes, podsOnNodes } from '../src/model/retain.js';

/** Why the node is not Ready, from its Ready condition. */
type NodeCause = 'unreachable' | 'network-plugin' | 'container-runtime' | 'kubelet';

/** A node younger than this that is not Ready yet is still joining (its network plugin starts after it registers). */
const JOINING_MS = 2 * 60 * 1000;

/** The node's Ready condition when it says the node is not ready (status False or Unknown). */
function notReady(node: Node): Condition | undefined {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready && (ready.status === 'False' || ready.status === 'Unknown') ? ready : undefined;
}

function cause(ready: Condition): NodeCause {
  if (ready.status === 'Unknown') return 'unreachable';
  const text = `${ready.reason ?? ''} ${ready.message ?? ''}`;
  if (/NetworkReady=false|NetworkPluginNotReady|network plugin|cni /i.test(text)) return 'network-plugin';
  if (/PLEG is not healthy|container runtime is down|container runtime status check|RuntimeReady=false|runtime not ready/i.test(text)) return 'container-runtime';
  return 'kubelet';
}

/** Events about a node: node-controller and kubelet events sit in "default" or carry no namespace. */
function nodeEvents(index: SnapshotIndex, name: string): KubeEvent[] {
  const events = new Set([...index.eventsFor('Node', undefined, name), ...index.eventsFor('Node', 'default', name)]);
  return [...events].sort((a, b) => eventTime(a) - eventTime(b));
}

/** The systemd unit of the node's container runtime, from nodeInfo.containerRuntimeVersion. */
function runtimeUnit(node: Node): string {
  const runtime = node.status?.nodeInfo?.containerRuntimeVersion ?? '';
  if (runtime.startsWith('cri-o://')) return 'crio';
  if (runtime.startsWith('docker://')) return 'cri-docker docker';
  return 'containerd';
}

/** A cloud command that shows whether the machine behind the node is still running, from spec.providerID. */
function machineStep(node: Node): RemediationStep | undefined {
  const id = node.spec?.providerID ?? '';
  const aws = id.match(/^aws:\/\/\/[^/]+\/(i-[0-9a-f]+)$/);
  if (aws) return { description: 'Check that the EC2 instance behind the node is still running and passes its status checks', command: `aws ec2 describe-instance-status --include-all-instances --instance-ids ${aws[1]}` };
  const gce = id.match(/^gce:\/\/([^/]+)\/([^/]+)\/([^/]+)$/);
  if (gce) return { description: 'Check that the VM behind the node is still running', command: `gcloud compute instances describe ${gce[3]} --zone ${gce[2]} --project ${gce[1]} --format='value(status)'` };
  return undefined;
}

/**
 * A node whose Ready condition is False or Unknown: the kubelet reports it is not ready, or it stopped
 * reporting at all. Every pod on the node is affected; after the eviction timeout the node controller
 * evicts them, and StatefulSet pods stay Terminating until the node is confirmed gone.
 */
const rule: Rule = {
  id: 'node-not-ready',
  title: 'Node is NotReady',
  severity: 'critical',
  description:
    'A node whose Ready condition is False (the kubelet reports a problem: network plugin, container runtime) or Unknown (the kubelet stopped posting status: the machine is down, unreachable, or the kubelet died). New pods are not scheduled there (not-ready / unreachable taints) and, after the eviction timeout (300s by default), its pods are evicted; pods that cannot be confirmed gone stay Terminating.',
  detection:
    'node.status.conditions Ready with status False or Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node status."), lastHeartbeatTime measured against the capture time, the node.kubernetes.io/unreachable and not-ready taints, the other conditions, NodeNotReady events, and the pods in the snapshot whose spec.nodeName is the node.',
  supersedes: ['pod-pending', 'failed-create-pod-sandbox', 'stuck-terminating'],
  remediation: [
    { description: 'Read the node\'s conditions, taints and events', command: 'kubectl describe node NODE' },
    { description: 'See which pods run on it', command: 'kubectl get pods -A -o wide --field-selector spec.nodeName=NODE' },
    { description: 'On the node: check the kubelet and the container runtime', command: 'sudo systemctl status kubelet containerd; sudo journalctl -u kubelet -n 200 --no-pager' },
    { description: 'If the node will not come back, move its pods elsewhere', command: 'kubectl drain NODE --ignore-daemonsets --delete-emptydir-data' },
  ],
  scope: 'cluster',
  // Every pod on a NotReady node, whatever its namespace, and the nodes' events.
  retain: (context) => ({
    pods: podsOnNodes(context, context.snapshot.nodes.filter((node) => notReady(node)).map((node) => node.metadata.name)),
    events: eventsAboutNodes(context),
  }),
  match: ({ snapshot, index, now }) => {
    const findings: Finding[] = [];
    for (const node of snapshot.nodes) {
      const name = node.metadata.name;
      const ready = notReady(node);
      if (!name || !ready) continue;
      const why = cause(ready);
      const pods = index.podsOnNode(name);
      const heartbeat = msSince(ready.lastHeartbeatTime, now);
      const notReadyFor = msSince(ready.lastTransitionTime, now);
      const nodeAge = msSince(node.metadata.creationTimestamp, now);
      const joining = why !== 'unreachable' && nodeAge !== undefined && nodeAge < JOINING_MS;

      const evidence = [`condition Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}${ready.message ? `: ${firstLine(ready.message)}` : ''}`];
      if (ready.lastHeartbeatTime) evidence.push(`Ready.lastHeartbeatTime=${ready.lastHeartbeatTime}${heartbeat !== undefined ? ` (${age(heartbeat)} before the snapshot)` : ''}`);
      if (ready.lastTransitionTime) evidence.push(`Ready.lastTransitionTime=${ready.lastTransitionTime}${notReadyFor !== undefined ? ` (not ready for ${age(notReadyFor)})` : ''}`);
      const others = (node.status?.conditions ?? []).filter((c) => c.type !== 'Ready' && (c.status === 'True' || c.status === 'Unknown'));
      if (others.length) evidence.push(`other conditions: ${others.map((c) => `${c.type}=${c.status}`).join(', ')}`);
      for (const taint of node.spec?.taints ?? []) {
        evidence.push(`taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}${taint.timeAdded ? ` (added ${taint.timeAdded})` : ''}`);
      }
      if (node.spec?.unschedulable) evidence.push('spec.unschedulable=true (cordoned)');
      if (nodeAge !== undefined) evidence.push(`node created ${age(nodeAge)} before the snapshot`);
      const info = node.status?.nodeInfo;
      if (info) evidence.push(`nodeInfo: kubelet ${info.kubeletVersion ?? '?'}, ${info.containerRuntimeVersion ?? 'runtime ?'}, ${info.osImage ?? 'OS ?'}`);
      if (node.spec?.providerID) evidence.push(`spec.providerID=${node.spec.providerID}`);
      evidence.push(...nodeEvents(index, name).filter((e) => e.type === 'Warning' || /NotReady|NodeStatusUnknown/.test(e.reason ?? '')).slice(-2).map(eventEvidence));
      const terminating = pods.filter((pod) => pod.metadata.deletionTimestamp);
      const podNames = pods.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
      evidence.push(
        pods.length
          ? `${pods.length} pod${pods.length > 1 ? 's' : ''} of the snapshot on the node${terminating.length ? ` (${terminating.length} being deleted)` : ''}: ${podNames.slice(0, 8).join(', ')}${podNames.length > 8 ? ` and ${podNames.length - 8} more` : ''}`
          : 'no pod of the snapshot runs on the node',
      );

      const since = notReadyFor !== undefined ? ` for ${age(notReadyFor)}` : '';
      const heartbeatText = heartbeat !== undefined ? `its last heartbeat was ${age(heartbeat)} before the snapshot` : 'no heartbeat time is recorded';
      const one = pods.length === 1;
      const podText = pods.length
        ? ` ${one ? 'The pod on it is' : `The ${pods.length} pods on it are`} ${
            why === 'unreachable'
              ? `not being looked after: ${one ? 'its' : 'their'} status is stale, and after the eviction timeout ${one ? 'it is' : 'they are'} evicted (StatefulSet pods stay Terminating until the node is deleted or marked out-of-service)`
              : `not getting new containers, or ${one ? 'is' : 'are'} being evicted`
          }.`
        : '';
      const explanations: Record<NodeCause, string> = {
        unreachable: `The kubelet on ${name} stopped posting node status (${heartbeatText}), so the node controller set Ready=Unknown and tainted the node unreachable. The machine is down, cut off from the API server, or its kubelet has died.${podText}`,
        'network-plugin': `The kubelet on ${name} reports its network is not ready: the CNI plugin has not initialised (its DaemonSet pod is not running on the node, or it has no configuration in /etc/cni/net.d). No pod sandbox can be created until it does.${podText}`,
        'container-runtime': `The kubelet on ${name} reports the container runtime is unhealthy (PLEG not healthy, or the runtime is down): the runtime is hung or overloaded, so containers cannot be started, stopped or inspected.${podText}`,
        kubelet: `The kubelet on ${name} reports the node is not ready: ${firstLine(ready.message) || ready.reason || 'no reason given'}.${podText}`,
      };

      const remediation: RemediationStep[] = [
        { description: 'Read the node\'s conditions, taints and events', command: kubectl.describeNode(name) },
        { description: 'See which pods run on it', command: `kubectl get pods -A -o wide --field-selector spec.nodeName=${name}` },
      ];
      if (why === 'unreachable') {
        const machine = machineStep(node);
        if (machine) remediation.push(machine);
        remediation.push({ description: `If the machine is running, log in to ${name} and check the kubelet and the runtime`, command: `sudo systemctl status kubelet ${runtimeUnit(node)}; sudo journalctl -u kubelet -n 200 --no-pager` });
      } else if (why === 'network-plugin') {
        remediation.push({ description: 'Find the network plugin\'s pod on the node (calico-node, cilium, aws-node, ...) and why it is not running', command: `kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=${name}` });
        remediation.push({ description: `On ${name}: check the CNI configuration and the kubelet's network errors`, command: 'ls /etc/cni/net.d; sudo journalctl -u kubelet -n 200 --no-pager | grep -i cni' });
      } else if (why === 'container-runtime') {
        remediation.push({ description: `On ${name}: check the container runtime and restart it if it hangs`, command: `sudo systemctl status ${runtimeUnit(node)}; sudo crictl ps -a | head; sudo journalctl -u kubelet -n 200 --no-pager | grep -i pleg` });
      } else {
        remediation.push({ description: `On ${name}: read the kubelet's log`, command: 'sudo systemctl status kubelet; sudo journalctl -u kubelet -n 200 --no-pager' });
      }
      if (!joining) remediation.push({ description: 'If the node will not come back soon, move its pods elsewhere (printed only: check first)', command: `kubectl drain ${name} --ignore-daemonsets --delete-emptydir-data` });
      const statefulStuck = terminating.some((pod) => controllerOf(pod.metadata.ownerReferences)?.kind === 'StatefulSet');
      if (why === 'unreachable' && statefulStuck) {
        remediation.push({
          description: 'StatefulSet pods on an unreachable node stay Terminating until the node is known to be down. Only once the machine is really powered off, mark it out of service so they are deleted and recreated elsewhere',
          command: `kubectl taint nodes ${name} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute`,
        });
      }

      findings.push({
        severity: joining ? 'warning' : 'critical',
        title: `Node ${name} is NotReady${since}: ${why === 'unreachable' ? `kubelet stopped reporting${heartbeat !== undefined ? ` ${age(heartbeat)} ago` : ''}` : why === 'network-plugin' ? 'network plugin not ready' : why === 'container-runtime' ? 'container runtime unhealthy' : firstLine(ready.message, 80) || ready.reason || 'kubelet not ready'} (${pods.length} pod${pods.length === 1 ? '' : 's'} on it)`,
        object: { kind: 'Node', namespace: null, name },
        evidence,
        explanation: joining ? `${name} joined the cluster ${age(nodeAge ?? 0)} before the snapshot and is not Ready yet; a new node usually waits for its network plugin for a minute. ${explanations[why]}` : explanations[why],
        remediation,
        confidence: why === 'unreachable' ? 0.95 : 0.9,
        cause: why,
        affected: pods.map((pod) => podRef(pod)),
      });
    }
    return findings;
  },
};

export default rule;
