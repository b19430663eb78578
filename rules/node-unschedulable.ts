import type { Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import { eventEvidence, kubectl, msSince, nodeEvents, podRef } from '../src/model/pod.js';
import { controllerOf } from '../src/model/snapshot-index.js';
import { age } from '../src/model/text.js';
import { eventsAboutNodes, podsOnNodes } from '../src/model/retain.js';

/** Taints that say who is taking the node away (cluster autoscaler, Karpenter). */
const REMOVAL_TAINTS: Record<string, string> = {
  ToBeDeletedByClusterAutoscaler: 'the cluster autoscaler is removing it',
  DeletionCandidateOfClusterAutoscaler: 'the cluster autoscaler considers removing it',
  'karpenter.sh/disrupted': 'Karpenter is disrupting it',
  'karpenter.sh/disruption': 'Karpenter is disrupting it',
};

/**
 * Pods a cordon concerns: those that will have to move when the node is drained. DaemonSet pods
 * tolerate the unschedulable taint and stay (drain skips them), static pods belong to the node, and
 * finished pods are done.
 */
function movable(pod: Pod): boolean {
  const owner = controllerOf(pod.metadata.ownerReferences)?.kind;
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && owner !== 'DaemonSet' && owner !== 'Node';
}

/**
 * A cordoned node: spec.unschedulable is true (kubectl cordon / drain, or a node upgrade),
 * so the scheduler places no new pod there. The pods on it keep running, but a cordon usually comes
 * before a drain, and a forgotten one takes the node's capacity out of the cluster.
 */
const rule: Rule = {
  id: 'node-unschedulable',
  title: 'Node is cordoned (unschedulable)',
  severity: 'warning',
  description:
    'A node with spec.unschedulable=true (kubectl cordon or drain, a managed node-group upgrade, a maintenance tool): the node controller taints it node.kubernetes.io/unschedulable:NoSchedule and the scheduler places no new pod there. Its pods keep running until it is drained, but a cordon left behind after maintenance silently removes the node\'s capacity, and pending pods report "node(s) were unschedulable".',
  detection:
    'node.spec.unschedulable=true, the node.kubernetes.io/unschedulable taint and when it was added, autoscaler and Karpenter removal taints, NodeNotSchedulable events, and the pods in the snapshot on the node (DaemonSet, static and finished pods do not count: they do not move). A warning when a pod in scope runs there, info otherwise.',
  remediation: [
    { description: 'Find out why it was cordoned: its taints and events', command: "kubectl get node NODE -o jsonpath='{.spec.taints}'" },
    { description: 'If the maintenance is over, make it schedulable again (printed only: check first)', command: 'kubectl uncordon NODE' },
    { description: 'If the node is being retired, move its pods off it', command: 'kubectl drain NODE --ignore-daemonsets --delete-emptydir-data' },
  ],
  scope: 'cluster',
  // Every pod on a cordoned node, whatever its namespace, and the nodes' events.
  retain: (context) => ({
    pods: podsOnNodes(context, context.snapshot.nodes.filter((node) => node.spec?.unschedulable === true).map((node) => node.metadata.name)),
    events: eventsAboutNodes(context),
  }),
  match: ({ snapshot, index, now }) => {
    const findings: Finding[] = [];
    for (const node of snapshot.nodes) {
      const name = node.metadata.name;
      if (!name || node.spec?.unschedulable !== true) continue;
      const all = index.podsOnNode(name);
      const pods = all.filter(movable);
      const staying = all.filter((pod) => !movable(pod) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
      const draining = pods.filter((pod) => pod.metadata.deletionTimestamp);
      const taint = node.spec.taints?.find((t) => t.key === 'node.kubernetes.io/unschedulable');
      const cordonedFor = msSince(taint?.timeAdded, now);
      const removal = node.spec.taints?.map((t) => REMOVAL_TAINTS[t.key]).find((why) => why !== undefined);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');

      const evidence = ['spec.unschedulable=true (cordoned)'];
      for (const t of node.spec.taints ?? []) {
        const added = msSince(t.timeAdded, now);
        evidence.push(`taint ${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}${t.timeAdded ? ` (added ${t.timeAdded}${added !== undefined ? `, ${age(added)} before the snapshot` : ''})` : ''}`);
      }
      if (ready) evidence.push(`node condition Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}`);
      evidence.push(...nodeEvents(index, name).filter((e) => /^(NodeNotSchedulable|NodeSchedulable)$/.test(e.reason ?? '')).slice(-2).map(eventEvidence));
      const podNames = pods.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
      evidence.push(
        pods.length
          ? `${pods.length} pod${pods.length === 1 ? '' : 's'} of the snapshot still on the node${draining.length ? ` (${draining.length} being deleted)` : ''}: ${podNames.slice(0, 8).join(', ')}${podNames.length > 8 ? ` and ${podNames.length - 8} more` : ''}`
          : 'no pod of the snapshot that would have to move runs on the node',
      );
      if (staying.length) evidence.push(`${staying.length} DaemonSet or static pod${staying.length === 1 ? ' stays' : 's stay'} on it whatever happens: ${staying.slice(0, 4).map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')}`);

      const since = cordonedFor !== undefined ? ` for ${age(cordonedFor)}` : '';
      const one = pods.length === 1;
      const podText = pods.length
        ? draining.length
          ? ` A drain looks under way: ${draining.length} of the ${pods.length} pod${one ? '' : 's'} on it ${draining.length === 1 ? 'is' : 'are'} being deleted, and their controllers recreate them on other nodes.`
          : ` ${one ? 'The pod on it keeps' : `The ${pods.length} pods on it keep`} running, but ${one ? 'it moves' : 'they move'} as soon as the node is drained, and ${one ? 'its' : 'their'} replacements need room on the other nodes.`
        : ' No pod of this scope would have to move.';
      const why = removal ? ` Its taints say ${removal}.` : '';
      const explanation = `${name} is cordoned${since}: the scheduler places no new pod there.${why}${podText} If the maintenance is over, the cordon is a leftover that keeps the node's capacity out of use; check why it was set before undoing it.`;

      const remediation: RemediationStep[] = [
        { description: 'Find out why it was cordoned: its taints (an autoscaler or upgrade leaves its own) and the node\'s events', command: `kubectl get node ${name} -o jsonpath='{.spec.taints}'` },
        { description: 'Read the node\'s events and conditions', command: kubectl.describeNode(name) },
      ];
      remediation.push({
        description: removal
          ? `Only if the removal was called off, make the node schedulable again (printed only: ${removal})`
          : 'If the maintenance is over, make the node schedulable again (printed only: check first)',
        command: `kubectl uncordon ${name}`,
      });
      if (pods.length && !draining.length) remediation.push({ description: 'If the node is being retired instead, move its pods off it (respects PodDisruptionBudgets)', command: `kubectl drain ${name} --ignore-daemonsets --delete-emptydir-data` });

      findings.push({
        severity: pods.length ? 'warning' : 'info',
        title: `Node ${name} is cordoned${since} (${pods.length ? `${pods.length} pod${one ? '' : 's'} on it would have to move` : 'no pod in scope would have to move'})`,
        object: { kind: 'Node', namespace: null, name },
        evidence,
        explanation,
        remediation,
        confidence: 0.95,
        affected: pods.map((pod) => podRef(pod)),
      });
    }
    return findings;
  },
};

export default rule;
