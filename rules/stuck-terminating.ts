import type { Node, Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import { eventEvidence, kubectl, msSince, nsFlag, podRef } from '../src/model/pod.js';
import { controllerOf, eventTime } from '../src/model/snapshot-index.js';
import { age, shellQuote } from '../src/model/text.js';

/** Why the pod is still there: its node is gone or not reporting, finalizers hold it, or the kubelet has not finished. */
type StuckCause = 'node-lost' | 'finalizers' | 'other';

/** terminationGracePeriodSeconds when neither the deletion nor the pod spec says. */
const DEFAULT_GRACE_SECONDS = 30;

/**
 * How long past its deletion deadline a pod may still be listed before it counts as stuck: the
 * kubelet has sent SIGKILL by then, and only unmounting volumes and the final status update remain.
 */
const STUCK_MARGIN_MS = 5 * 60 * 1000;

/** What kdiag knows about the pod's node: its object, or whether the API said it no longer exists. */
function nodeState(context: RuleContext, name: string | undefined): { node?: Node; gone: boolean } {
  if (!name) return { gone: false };
  const node = context.index.node(name);
  if (node) return { node, gone: false };
  const errors = context.snapshot.accessErrors.filter((e) => e.resource === 'nodes');
  // A GET answered 404 says the node is gone; a list that read other nodes but not this one says the same.
  const notFound = errors.some((e) => e.status === 404 && (e.name === name || !e.name));
  const listed = context.snapshot.nodes.length > 0 && !errors.some((e) => e.status !== 404);
  return { gone: notFound || listed };
}

function stuckFinding(context: RuleContext, pod: Pod, deadline: number, grace: number): Finding {
  const { index, now } = context;
  const name = pod.metadata.name ?? '';
  const ns = pod.metadata.namespace;
  const nodeName = pod.spec?.nodeName;
  const { node, gone } = nodeState(context, nodeName);
  const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
  const notReady = !!ready && ready.status !== 'True';
  const finalizers = pod.metadata.finalizers ?? [];
  // A NotReady node's kubelet must confirm the containers stopped before anything else can finish.
  // Pods of a deleted node are removed by the pod garbage collector, unless a finalizer holds them.
  const cause: StuckCause = notReady ? 'node-lost' : gone ? (finalizers.length ? 'finalizers' : 'node-lost') : finalizers.length ? 'finalizers' : 'other';
  const nodeDown = notReady || gone;
  const requestedAt = deadline - grace * 1000;
  const terminatingFor = now - requestedAt;
  const overdue = now - deadline;

  const evidence = [
    `metadata.deletionTimestamp=${pod.metadata.deletionTimestamp} (deletion requested about ${age(terminatingFor)} before the snapshot with a ${grace}s grace period; ${age(overdue)} past it)`,
    finalizers.length ? `metadata.finalizers: ${finalizers.join(', ')}` : 'metadata.finalizers: none',
  ];
  if (nodeName) {
    if (gone) evidence.push(`node ${nodeName} no longer exists in the cluster`);
    else if (ready) evidence.push(`node ${nodeName}: condition Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}${ready.lastTransitionTime ? ` since ${ready.lastTransitionTime}` : ''}`);
    else evidence.push(`node ${nodeName} (not read: its state is unknown)`);
  } else {
    evidence.push('spec.nodeName not set: the pod was never scheduled');
  }
  const running = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].filter((s) => s.state?.running).map((s) => s.name);
  if (running.length) evidence.push(`containers reported running${nodeDown ? ' (last report, the node is not updating it)' : ''}: ${running.join(', ')}`);
  const owner = controllerOf(pod.metadata.ownerReferences);
  if (owner) evidence.push(`owned by ${owner.kind.toLowerCase()}/${owner.name}`);
  const events = index.podEvents(pod).filter((e) => eventTime(e) >= requestedAt && (e.type === 'Warning' || e.reason === 'Killing'));
  evidence.push(...events.slice(-3).map(eventEvidence));

  const statefulSet = owner?.kind === 'StatefulSet';
  const replacement = statefulSet
    ? ` Its StatefulSet cannot create the replacement (same name, same volumes) until this pod is gone, so replica ${name} is down.`
    : owner
      ? ` Its ${owner.kind} has likely started a replacement already, but this pod still counts against quotas and may still hold its volumes.`
      : '';
  const explanations: Record<StuckCause, string> = {
    'node-lost': gone
      ? `The pod was deleted and its node ${nodeName} no longer exists. The pod garbage collector of kube-controller-manager removes the pods of deleted nodes within a minute or so; this one is still listed, so that collector is not running or cannot delete it.${replacement}`
      : `The pod was deleted, but its node ${nodeName} is not reporting (Ready=${ready?.status ?? '?'}), and only that node's kubelet can confirm the containers stopped. The API server keeps the pod Terminating until the kubelet comes back, the node object is deleted (the pod garbage collector then removes its pods), or the pod is force-deleted.${replacement}`,
    finalizers: `The pod was deleted${gone ? ` and its node ${nodeName} no longer exists` : ''}, but metadata.finalizers still lists ${finalizers.join(', ')}: the API server keeps the object until the controller responsible for each finalizer removes it.${finalizers.some((f) => f.startsWith('batch.kubernetes.io/')) ? ' batch.kubernetes.io/job-tracking belongs to the Job controller, which removes it once it has counted the pod.' : ' A finalizer that is not a Kubernetes one belongs to an operator or a controller of your own, which is not doing its job (it is down, or fails).'}${replacement}`,
    other: `The pod was deleted and its grace period ended, but the kubelet on ${nodeName ?? 'its node'} has not finished tearing it down, although the node is Ready and no finalizer holds it: a container that does not die (a hung runtime, a process in uninterruptible I/O, a stuck NFS or CSI volume), a volume that cannot be unmounted, or a kubelet that fails to report. The pod's events and the kubelet's log on the node say which.${replacement}`,
  };

  const flag = nsFlag(ns);
  const remediation: RemediationStep[] = [
    { description: 'Read the pod\'s state, finalizers and events', command: kubectl.describePod(pod) },
    { description: 'List what holds the pod', command: `kubectl get pod ${name} ${flag}-o jsonpath='{.metadata.finalizers}'` },
  ];
  if (nodeName && !gone && cause !== 'finalizers') remediation.push({ description: `Check node ${nodeName}: its Ready condition and events`, command: kubectl.describeNode(nodeName) });
  if (cause === 'other' && nodeName) remediation.push({ description: `On ${nodeName}: look for the pod in the kubelet's log and for containers that did not stop`, command: `sudo journalctl -u kubelet -n 300 --no-pager | grep ${shellQuote(name)}; sudo crictl ps -a --pod $(sudo crictl pods -q --name ${shellQuote(name)})` });
  if (cause === 'finalizers') {
    remediation.push({
      description: 'Last resort, only once you know the controller behind the finalizer will not finish (printed only): remove the finalizers so the deletion completes; the controller skips whatever cleanup it owed',
      command: `kubectl patch pod ${name} ${flag}--type=merge -p '{"metadata":{"finalizers":null}}'`,
    });
  } else {
    remediation.push({
      description: `Last resort, printed only: force-delete the pod object without waiting for the kubelet. WARNING: if the node is only cut off, the containers may keep running there${statefulSet ? ', and two pods with the same StatefulSet identity may run at once (data corruption risk)' : ''}; make sure the machine is really down first`,
      command: `kubectl delete pod ${name} ${flag}--grace-period=0 --force`,
    });
  }

  return {
    severity: nodeDown ? 'critical' : 'warning',
    title: `Pod stuck Terminating for ${age(terminatingFor)}: ${cause === 'node-lost' ? (gone ? `node ${nodeName} is gone` : `node ${nodeName} is NotReady`) : cause === 'finalizers' ? `held by finalizer${finalizers.length > 1 ? 's' : ''} ${finalizers.join(', ')}${gone ? ` (node ${nodeName} is gone)` : ''}` : `the kubelet on ${nodeName ?? 'its node'} has not finished`}`,
    object: podRef(pod),
    evidence,
    explanation: explanations[cause],
    remediation,
    confidence: cause === 'other' ? 0.7 : 0.9,
    cause,
  };
}

/**
 * A pod whose deletion does not complete. metadata.deletionTimestamp is set to the time of the delete
 * request plus the grace period: by then the kubelet has sent SIGKILL and the pod should be gone within
 * seconds. One still listed well after it is held by finalizers, or by a kubelet that cannot confirm
 * the containers stopped (its node is gone or not reporting), or by a teardown that hangs.
 */
const rule: Rule = {
  id: 'stuck-terminating',
  title: 'Pod stuck in Terminating',
  severity: 'warning',
  description:
    'A deleted pod that stays Terminating long after its grace period: finalizers nobody removes, a node that is gone or not reporting (its kubelet must confirm the containers stopped), or a teardown that hangs (a container that does not die, a volume that does not unmount). A StatefulSet cannot replace such a pod, and it may still hold its volumes. Critical when the node is gone or NotReady.',
  detection:
    `metadata.deletionTimestamp (the delete request time plus the grace period) more than ${STUCK_MARGIN_MS / 60000} minutes before the capture time; metadata.deletionGracePeriodSeconds (else spec.terminationGracePeriodSeconds, else ${DEFAULT_GRACE_SECONDS}s), metadata.finalizers, the node's Ready condition or its absence, the pod's Killing and warning events since the deletion.`,
  remediation: [
    { description: 'Read the pod\'s state, finalizers and events', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'List the finalizers that hold it', command: 'kubectl get pod POD -n NAMESPACE -o jsonpath=\'{.metadata.finalizers}\'' },
    { description: 'Last resort, once the node is known to be down (printed only): force-delete the pod object', command: 'kubectl delete pod POD -n NAMESPACE --grace-period=0 --force' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pod of context.index.suspects) {
      const deletion = pod.metadata.deletionTimestamp;
      if (!deletion) continue;
      const deadline = Date.parse(deletion);
      const overdue = msSince(deletion, context.now);
      if (!Number.isFinite(deadline) || overdue === undefined || overdue <= STUCK_MARGIN_MS) continue;
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
      findings.push(stuckFinding(context, pod, deadline, grace));
    }
    return findings;
  },
};

export default rule;
