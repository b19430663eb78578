import type { Container, KubeEvent, Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext, Severity } from '../src/model/finding.js';
import { containers, eventEvidence, eventsWithReason, kubectl, msSince, nsFlag, parseQuantity, podRef, startFailurePassed } from '../src/model/pod.js';
import { eventTime } from '../src/model/snapshot-index.js';
import { age, firstLine, shellQuote } from '../src/model/text.js';

/** Why a pod is not scheduled, from the scheduler's answer. */
type PendingCause =
  | 'insufficient-resources'
  | 'untolerated-taint'
  | 'node-affinity'
  | 'pod-anti-affinity'
  | 'unbound-pvc'
  | 'no-nodes'
  | 'scheduling-gated'
  | 'unschedulable-node'
  | 'other';

/** One "COUNT REASON" item of a FailedScheduling message. */
interface SchedulerReason {
  count: number;
  /** False for an item without a node count ("pod has unbound immediate PersistentVolumeClaims"): it applies to every node. */
  counted: boolean;
  text: string;
  cause: PendingCause;
  /** The resource an "Insufficient X" item names. */
  resource?: string;
  /** The taint an "untolerated taint {key: value}" item names. */
  taint?: { key: string; value: string };
}

/** A parsed "0/N nodes are available: ..." message. */
interface SchedulerMessage {
  total?: number;
  reasons: SchedulerReason[];
  preemption?: string;
}

/** A pod younger than this may still be placed or started: it is reported, but not as critical. */
const YOUNG_MS = 2 * 60 * 1000;
/** A cluster-autoscaler scale-up this recent may still bring the capacity. */
const SCALE_UP_MS = 10 * 60 * 1000;
/** Waiting reasons other rules explain: a pod that shows one is theirs, not this rule's. */
const EXPLAINED_ELSEWHERE = new Set(['ErrImagePull', 'ImagePullBackOff', 'CrashLoopBackOff', 'CreateContainerConfigError']);
const PLACEMENT: readonly PendingCause[] = ['untolerated-taint', 'node-affinity', 'unschedulable-node'];

/** The cause one scheduler reason item stands for, with the resource or taint it names. */
function classifyReason(text: string): Omit<SchedulerReason, 'count' | 'counted' | 'text'> {
  const insufficient = text.match(/^Insufficient (\S+)/i);
  if (insufficient) return { cause: 'insufficient-resources', resource: insufficient[1] };
  if (/^Too many pods/i.test(text)) return { cause: 'insufficient-resources', resource: 'pods' };
  if (/untolerated taint|taints? that the pod didn't tolerate/i.test(text)) {
    const taint = text.match(/\{([^:}]+):\s*([^}]*)\}/);
    if (taint?.[1] === 'node.kubernetes.io/unschedulable') return { cause: 'unschedulable-node' };
    return taint ? { cause: 'untolerated-taint', taint: { key: taint[1]!.trim(), value: (taint[2] ?? '').trim() } } : { cause: 'untolerated-taint' };
  }
  if (/were unschedulable/i.test(text)) return { cause: 'unschedulable-node' };
  if (/node affinity\/selector|didn't match node selector|didn't match Pod's node affinity/i.test(text)) return { cause: 'node-affinity' };
  if (/anti-affinity/i.test(text)) return { cause: 'pod-anti-affinity' };
  if (/unbound immediate PersistentVolumeClaims|persistentvolumeclaim "[^"]*" not found|didn't find available persistent volumes to bind/i.test(text)) return { cause: 'unbound-pvc' };
  return { cause: 'other' };
}

/** Parse the scheduler's "0/N nodes are available: 3 Insufficient cpu, 2 node(s) ... . preemption: ..." message. */
function parseSchedulerMessage(message: string): SchedulerMessage {
  const text = message.trim();
  if (/no nodes available to schedule pods/i.test(text)) return { total: 0, reasons: [] };
  const match = text.match(/^0\/(\d+) nodes are available:?\s*([\s\S]*)$/);
  if (!match) return { reasons: [] };
  const total = Number(match[1]);
  let rest = match[2] ?? '';
  let preemption: string | undefined;
  const cut = rest.search(/\s+preemption:\s/);
  if (cut >= 0) {
    preemption = rest.slice(cut).replace(/^\s+preemption:\s*/, '').replace(/\.+\s*$/, '');
    rest = rest.slice(0, cut);
  }
  const items = rest.trim().replace(/\.+$/, '').split(/,\s+(?=\d+ |pod has |node\(s\) )/).filter((item) => item.trim() !== '');
  const reasons = items.map((item): SchedulerReason => {
    const counted = item.trim().match(/^(\d+)\s+([\s\S]*)$/);
    const reasonText = (counted ? counted[2] : item).trim();
    return { count: counted ? Number(counted[1]) : total, counted: !!counted, text: reasonText, ...classifyReason(reasonText) };
  });
  const parsed: SchedulerMessage = { total, reasons };
  if (preemption) parsed.preemption = preemption;
  return parsed;
}

/** Taints Kubernetes itself puts on nodes: tolerating them is rarely the fix. */
function systemTaint(key: string): boolean {
  return key.startsWith('node-role.kubernetes.io/') || key.startsWith('node.kubernetes.io/');
}

/** Whether the pod restricts its nodes itself (nodeSelector or node affinity). */
function hasNodeConstraints(pod: Pod): boolean {
  const affinity = pod.spec?.affinity;
  const nodeAffinity = typeof affinity === 'object' && affinity !== null && 'nodeAffinity' in affinity;
  return Object.keys(pod.spec?.nodeSelector ?? {}).length > 0 || nodeAffinity;
}

/**
 * The reason that blocks the pod. Each node reports the first scheduler filter it fails, and the
 * filters run placement checks (cordon, taints, node affinity) before fit (resources, pod
 * anti-affinity, volumes): nodes that fail a fit check passed placement, so they are the ones the pod
 * could use, and their reason is the blocker. Among placement-only answers the largest count wins,
 * except that a user taint next to a node-affinity mismatch means the pod targets a tainted pool
 * (the nodes it selects are exactly the tainted ones).
 */
function dominant(parsed: SchedulerMessage, pod: Pod): SchedulerReason | undefined {
  const { reasons } = parsed;
  const pvc = reasons.find((r) => r.cause === 'unbound-pvc');
  if (pvc) return pvc;
  const byCount = (list: SchedulerReason[]): SchedulerReason | undefined =>
    list.reduce<SchedulerReason | undefined>((best, r) => (!best || r.count > best.count ? r : best), undefined);
  const fit = reasons.filter((r) => !PLACEMENT.includes(r.cause));
  if (fit.length) return byCount(fit.filter((r) => r.cause !== 'other')) ?? byCount(fit);
  const userTaint = reasons.find((r) => r.cause === 'untolerated-taint' && (!r.taint || !systemTaint(r.taint.key)));
  if (userTaint && reasons.some((r) => r.cause === 'node-affinity') && hasNodeConstraints(pod)) return userTaint;
  const controlPlane = (r: SchedulerReason): boolean => !!r.taint?.key.startsWith('node-role.kubernetes.io/');
  return byCount(reasons.filter((r) => !controlPlane(r))) ?? byCount(reasons);
}

/** Every container spec of the pod, init containers first. */
function specs(pod: Pod): { container: Container; field: string }[] {
  return [
    ...(pod.spec?.initContainers ?? []).map((container) => ({ container, field: `spec.initContainers[${container.name}]` })),
    ...(pod.spec?.containers ?? []).map((container) => ({ container, field: `spec.containers[${container.name}]` })),
  ];
}

/** Evidence lines with the resource requests of each container that has some. */
function requestEvidence(pod: Pod): string[] {
  return specs(pod)
    .filter(({ container }) => Object.keys(container.resources?.requests ?? {}).length > 0)
    .map(({ container, field }) => `${field}.resources.requests: ${Object.entries(container.resources?.requests ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}`);
}

/** The container asking for the most of a resource, with its request. */
function largestRequest(pod: Pod, resource: string): { name: string; quantity: string } | undefined {
  let best: { name: string; quantity: string; value: number } | undefined;
  for (const { container } of specs(pod)) {
    const quantity = container.resources?.requests?.[resource];
    const value = parseQuantity(quantity);
    if (quantity !== undefined && value !== undefined && (!best || value > best.value)) best = { name: container.name, quantity, value };
  }
  return best && { name: best.name, quantity: best.quantity };
}

/** Half a request, for a suggested lower value ("4" cpu -> "2", "3" -> "1500m", "8Gi" -> "4Gi"). */
function halved(quantity: string, resource: string): string {
  const match = quantity.match(/^(\d+(?:\.\d+)?)([A-Za-z]*)$/);
  if (!match) return '<lower>';
  const value = Number(match[1]) / 2;
  const suffix = match[2] ?? '';
  if (resource === 'cpu' && suffix === '' && !Number.isInteger(value)) return `${Math.round(value * 1000)}m`;
  if (suffix === 'm') return `${Math.round(value)}m`;
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${suffix}`;
}

/** A label selector for the pod's siblings (app / app.kubernetes.io/name), when it has such a label. */
function appSelector(pod: Pod): string | undefined {
  const labels = pod.metadata.labels ?? {};
  for (const key of ['app.kubernetes.io/name', 'app', 'k8s-app']) {
    const value = labels[key];
    if (value) return `${key}=${value}`;
  }
  return undefined;
}

/** Explanation and remediation for an unscheduled pod, by cause. */
function unschedulableVerdict(
  context: RuleContext,
  pod: Pod,
  cause: PendingCause,
  reason: SchedulerReason | undefined,
  parsed: SchedulerMessage,
): { what: string; explanation: string; remediation: RemediationStep[] } {
  const ns = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name ?? '';
  const target = kubectl.target(pod, context.index);
  const nodes = !reason || !reason.counted ? 'the nodes' : parsed.total !== undefined ? `${reason.count} of ${parsed.total} nodes` : `${reason.count} node(s)`;
  const others = parsed.reasons.filter((r) => r !== reason).map((r) => `${r.count} ${r.text}`);
  const rest = others.length ? ` The rest: ${others.join('; ')}.` : '';
  const edit: RemediationStep = { description: 'Change the pod template', command: `kubectl edit ${target} -n ${ns}` };
  switch (cause) {
    case 'insufficient-resources': {
      const resource = reason?.resource ?? 'cpu';
      const largest = largestRequest(pod, resource);
      const remediation: RemediationStep[] = [
        { description: 'See how much of each node is already requested ("Allocated resources")', command: 'kubectl describe nodes' },
        { description: 'Compare with what the nodes really use (needs metrics-server): requests far above use can be lowered', command: 'kubectl top nodes' },
      ];
      if (largest && ['cpu', 'memory', 'ephemeral-storage'].includes(resource)) {
        remediation.push({
          description: `Lower the ${resource} request of ${largest.name} (now ${largest.quantity}) if it does not need that much, e.g. to half`,
          command: `kubectl set resources ${target} -n ${ns} -c ${largest.name} --requests=${resource}=${halved(largest.quantity, resource)}`,
        });
      } else if (resource !== 'pods' && !['cpu', 'memory', 'ephemeral-storage'].includes(resource) && /^[A-Za-z0-9./-]+$/.test(resource)) {
        remediation.push({ description: `See which nodes offer ${resource} at all, and how many`, command: `kubectl get nodes -o custom-columns='NAME:.metadata.name,ALLOCATABLE:.status.allocatable.${resource.replace(/\./g, '\\.')}'` });
      }
      remediation.push({ description: resource === 'pods' ? 'The nodes are at their pod limit (maxPods): add nodes, or raise maxPods where the network allows' : `Or add capacity with ${resource}: scale the node group (the cluster autoscaler does this when it is configured for it)` });
      return {
        what: `no node has enough free ${resource}`,
        explanation: `The scheduler found no node with enough unrequested ${resource} for this pod: on ${nodes}, the requests of the pods already there plus this pod's exceed what the node can allocate. Scheduling counts requests, not actual use.${rest}`,
        remediation,
      };
    }
    case 'untolerated-taint': {
      const taint = reason?.taint;
      const shown = taint ? `${taint.key}${taint.value ? `=${taint.value}` : ''}` : 'a taint';
      if (taint && taint.key.startsWith('node-role.kubernetes.io/')) {
        return {
          what: `only control-plane nodes (${taint.key}) are left`,
          explanation: `${nodes} carry the control-plane taint ${taint.key}, which keeps workloads off control-plane nodes, and no worker node could take the pod.${rest}`,
          remediation: [
            { description: 'Check that worker nodes exist and are Ready', command: 'kubectl get nodes' },
            { description: 'Only on a single-node or lab cluster: let workloads run on the control plane', command: `kubectl taint nodes --all ${shellQuote(`${taint.key}-`)}` },
          ],
        };
      }
      if (taint && systemTaint(taint.key)) {
        return {
          what: `nodes tainted ${taint.key}`,
          explanation: `${nodes} carry the taint ${taint.key}, which Kubernetes sets on nodes that are not ready, unreachable or under resource pressure. The nodes need fixing; tolerating the taint would place the pod on a broken node.${rest}`,
          remediation: [
            { description: 'See which nodes are tainted and their conditions', command: 'kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints' },
            { description: 'Read the conditions of the tainted nodes', command: 'kubectl describe nodes' },
          ],
        };
      }
      const targeted = parsed.reasons.some((r) => r.cause === 'node-affinity') && hasNodeConstraints(pod)
        ? ' The pod\'s node selector / affinity excludes the other nodes, so it targets exactly the tainted ones: the missing toleration is what blocks it (the scheduler checks taints before node affinity).'
        : '';
      return {
        what: `untolerated taint ${shown}`,
        explanation: `${nodes} carry the taint ${shown}, and the pod has no toleration for it. A taint reserves nodes (a GPU pool, a dedicated team pool): pods land there only if they tolerate it.${targeted}${rest}`,
        remediation: [
          { description: 'See which nodes carry the taint', command: 'kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints' },
          {
            description: `If the pod belongs on those nodes, add a toleration to the pod template: {key: ${taint?.key ?? '<key>'}, operator: Equal, value: "${taint?.value ?? ''}", effect: <the taint's effect, usually NoSchedule>}`,
            command: `kubectl edit ${target} -n ${ns}`,
          },
        ],
      };
    }
    case 'node-affinity': {
      const selector = Object.entries(pod.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      const remediation: RemediationStep[] = [];
      if (selector) remediation.push({ description: 'See which nodes have the labels the nodeSelector asks for', command: `kubectl get nodes -l ${shellQuote(selector)}` });
      remediation.push({ description: 'See the labels the nodes do have', command: 'kubectl get nodes --show-labels' });
      remediation.push({ ...edit, description: 'Fix the nodeSelector / nodeAffinity in the pod template (or label the intended nodes: kubectl label node <node> KEY=VALUE)' });
      return {
        what: 'no node matches its node selector / affinity',
        explanation: `${nodes} do not have the labels the pod's ${selector ? `nodeSelector (${selector})` : 'node affinity'} requires. Either the selector is wrong (a typo, a zone or instance type that does not exist), or the nodes it means are missing or lost their labels.${rest}`,
        remediation,
      };
    }
    case 'pod-anti-affinity': {
      const selector = appSelector(pod);
      return {
        what: 'pod anti-affinity rules leave no node',
        explanation: `${nodes} already run a pod that this pod's required anti-affinity (or an existing pod's anti-affinity) excludes. Required anti-affinity per node allows at most one such pod per node (per zone with a zone topology key), so more replicas than nodes stay Pending.${rest}`,
        remediation: [
          { description: 'See where the sibling pods run', command: `kubectl get pods -n ${ns} -o wide${selector ? ` -l ${shellQuote(selector)}` : ''}` },
          { ...edit, description: 'Lower the replicas to the number of nodes, add nodes, or turn requiredDuringScheduling anti-affinity into preferredDuringScheduling' },
        ],
      };
    }
    case 'unbound-pvc': {
      const claims = (pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((c): c is string => !!c);
      const remediation: RemediationStep[] = [{ description: 'See the claims of the namespace and their status', command: `kubectl get pvc -n ${ns}` }];
      for (const claim of claims.slice(0, 2)) remediation.push({ description: `Read why ${claim} is not bound (its events: no StorageClass, no matching volume, provisioner errors)`, command: `kubectl describe pvc ${claim} -n ${ns}` });
      remediation.push({ description: 'Check that the StorageClass the claim names exists (or that a default one does)', command: 'kubectl get storageclass' });
      return {
        what: 'its PersistentVolumeClaim is not bound',
        explanation: `The pod uses ${claims.length ? `claim${claims.length > 1 ? 's' : ''} ${claims.join(', ')}` : 'a PersistentVolumeClaim'} that is not bound to a volume, and the claim's StorageClass binds immediately, so the scheduler waits. No StorageClass, no default StorageClass, a provisioner that fails, or no matching PersistentVolume keeps it unbound.${rest}`,
        remediation,
      };
    }
    case 'no-nodes':
      return {
        what: 'the cluster has no nodes to schedule on',
        explanation: 'The scheduler has no node at all to consider: the cluster has no registered worker nodes (a node group scaled to zero, nodes that never joined, or all deleted).',
        remediation: [
          { description: 'List the nodes', command: 'kubectl get nodes' },
          { description: 'Scale up the node group, or check why the nodes do not register (their kubelet log)' },
        ],
      };
    case 'scheduling-gated': {
      const gates = (pod.spec?.schedulingGates ?? []).map((g) => g.name);
      return {
        what: `scheduling gated by ${gates.join(', ') || 'a scheduling gate'}`,
        explanation: `The scheduler does not consider the pod while it has scheduling gates (${gates.join(', ') || 'spec.schedulingGates'}). The controller that added them (a queue such as Kueue, a quota manager) removes them once it admits the pod; until then the pod waits by design.`,
        remediation: [
          { description: 'See the gates', command: `kubectl get pod ${name} -n ${ns} -o jsonpath='{.spec.schedulingGates}'` },
          { description: 'Check the controller that owns the gate (its queue, its quota); to release the pod by hand, remove the gates', command: `kubectl patch pod ${name} -n ${ns} --type=json -p '[{"op":"remove","path":"/spec/schedulingGates"}]'` },
        ],
      };
    }
    case 'unschedulable-node': {
      const cordoned = context.snapshot.nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata.name).filter((n): n is string => !!n);
      const remediation: RemediationStep[] = [{ description: 'See which nodes are cordoned (SchedulingDisabled)', command: 'kubectl get nodes' }];
      if (cordoned.length) for (const node of cordoned.slice(0, 3)) remediation.push({ description: `If the maintenance on ${node} is over, let pods schedule there again`, command: `kubectl uncordon ${node}` });
      else remediation.push({ description: 'If the maintenance is over, uncordon the nodes', command: 'kubectl uncordon <node>' });
      return {
        what: 'the nodes are cordoned',
        explanation: `${nodes} are cordoned (spec.unschedulable, during a drain, an upgrade or maintenance), so no new pod is placed on them.${rest}`,
        remediation,
      };
    }
    default:
      return {
        what: reason ? firstLine(reason.text, 80) : 'the scheduler cannot place it',
        explanation: reason
          ? `The scheduler ruled out ${nodes}: ${reason.text}.${rest}`
          : 'The scheduler could not place the pod; its message is in the evidence.',
        remediation: [
          { description: 'Read the scheduler\'s message in the pod\'s events', command: kubectl.podEvents(pod) },
          { description: 'Read the pod\'s scheduling constraints (node selector, affinity, tolerations, topology spread, host ports)', command: kubectl.describePod(pod) },
        ],
      };
  }
}

/** Findings for a pod the scheduler has not placed. */
function unscheduled(context: RuleContext, pod: Pod, created: number | undefined): Finding {
  const { index, now } = context;
  const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const failed = eventsWithReason(index, pod, 'FailedScheduling');
  const latest = failed[failed.length - 1];
  const message = latest?.message ?? condition?.message ?? '';
  const gated = condition?.reason === 'SchedulingGated' || (pod.spec?.schedulingGates?.length ?? 0) > 0;
  const parsed = parseSchedulerMessage(message);
  const reason = gated ? undefined : dominant(parsed, pod);
  const cause: PendingCause = gated ? 'scheduling-gated' : parsed.total === 0 ? 'no-nodes' : reason?.cause ?? 'other';

  const evidence: string[] = [];
  if (condition) evidence.push(`condition PodScheduled=${condition.status}${condition.reason ? ` (${condition.reason})` : ''}${condition.message && condition.message !== latest?.message ? `: ${firstLine(condition.message)}` : ''}`);
  if (latest) evidence.push(eventEvidence(latest));
  for (const r of parsed.reasons) evidence.push(`scheduler, ${r.counted ? `${r.count}${parsed.total !== undefined ? ` of ${parsed.total}` : ''} node(s)` : 'every node'}: ${r.text}`);
  if (parsed.preemption) evidence.push(`scheduler, preemption: ${parsed.preemption}`);
  if (gated) evidence.push(`spec.schedulingGates: ${(pod.spec?.schedulingGates ?? []).map((g) => g.name).join(', ') || 'none'}`);
  evidence.push(...requestEvidence(pod));
  const selector = Object.entries(pod.spec?.nodeSelector ?? {});
  if (selector.length) evidence.push(`spec.nodeSelector: ${selector.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (reason?.taint) evidence.push(`untolerated taint key: ${reason.taint.key}${reason.taint.value ? ` (value ${reason.taint.value})` : ''}`);
  if (pod.status?.nominatedNodeName) evidence.push(`status.nominatedNodeName=${pod.status.nominatedNodeName} (preempting pods there)`);
  const scaler = eventsWithReason(index, pod, 'TriggeredScaleUp', 'NotTriggerScaleUp', 'FailedScaleUp');
  const lastScaler = scaler[scaler.length - 1];
  if (lastScaler) evidence.push(eventEvidence(lastScaler));
  if (created !== undefined) evidence.push(`pending for ${age(created)} (created ${pod.metadata.creationTimestamp})`);

  const young = created !== undefined && created < YOUNG_MS;
  const stuck = lastScaler !== undefined && lastScaler.reason !== 'TriggeredScaleUp';
  const scalingUp = lastScaler?.reason === 'TriggeredScaleUp' && now - eventTime(lastScaler) < SCALE_UP_MS;
  let severity: Severity = 'critical';
  if (cause === 'scheduling-gated') severity = young ? 'info' : 'warning';
  else if ((young && !stuck) || scalingUp) severity = 'warning';

  const v = unschedulableVerdict(context, pod, cause, reason, parsed);
  let explanation = v.explanation;
  if (scalingUp) explanation += ' The cluster autoscaler has triggered a scale-up for this pod, so capacity may be on its way.';
  else if (stuck && lastScaler?.reason === 'NotTriggerScaleUp') explanation += ' The cluster autoscaler will not add a node for it (see its NotTriggerScaleUp event).';
  if (young && severity !== 'critical') explanation += ` The pod is only ${age(created ?? 0)} old, so this may still resolve.`;
  return {
    severity,
    title: `Pod ${pod.metadata.name} is Pending: ${v.what}`,
    object: podRef(pod),
    evidence,
    explanation,
    remediation: v.remediation,
    confidence: cause === 'other' ? 0.6 : parsed.reasons.length || gated || cause === 'no-nodes' ? 0.9 : 0.7,
    cause,
  };
}

/** Latest Warning events of the pod, one per reason, oldest first. */
function warnings(events: KubeEvent[]): KubeEvent[] {
  const byReason = new Map<string, KubeEvent>();
  for (const event of events) if (event.type === 'Warning') byReason.set(event.reason ?? '', event);
  return [...byReason.values()].sort((a, b) => eventTime(a) - eventTime(b)).slice(-4);
}

/** A finding for a pod placed on a node that still has not started its containers. */
function notStarted(context: RuleContext, pod: Pod): Finding | undefined {
  const { index, now } = context;
  const views = containers(pod);
  if (views.some((v) => EXPLAINED_ELSEWHERE.has(v.status.state?.waiting?.reason ?? ''))) return undefined;
  const node = pod.spec?.nodeName;
  const ns = pod.metadata.namespace ?? 'default';
  const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
  const since = msSince(condition?.lastTransitionTime ?? pod.status?.startTime ?? pod.metadata.creationTimestamp, now);
  const evidence: string[] = [`status.phase=Pending, scheduled on ${node ?? '?'}${since !== undefined ? ` ${age(since)} before the snapshot` : ''}`];
  const initRunning = views.find((v) => v.init && !v.sidecar && v.status.state?.running);
  for (const v of views) {
    const waiting = v.status.state?.waiting;
    if (waiting?.reason) evidence.push(`${v.init ? 'init container' : 'container'} ${v.status.name}: state.waiting.reason=${waiting.reason}${waiting.message ? `: ${firstLine(waiting.message)}` : ''}`);
  }
  if (initRunning) evidence.push(`init container ${initRunning.status.name} running since ${initRunning.status.state?.running?.startedAt ?? '?'}`);
  // The kubelet's warnings since the pod was placed (not the scheduler's from before), without mount
  // and sandbox failures a later step shows were overcome (the secret was created, the CNI recovered).
  const placedAt = condition?.lastTransitionTime ? Date.parse(condition.lastTransitionTime) : 0;
  const podEvents = index.podEvents(pod).filter((e) => e.reason !== 'FailedScheduling' && eventTime(e) >= placedAt && !startFailurePassed(index, pod, e));
  const events = warnings(podEvents);
  evidence.push(...events.map(eventEvidence));
  const latest = podEvents[podEvents.length - 1];
  const pulling = events.length === 0 && latest?.reason === 'Pulling' ? latest : undefined;
  if (pulling) evidence.push(`${eventEvidence(pulling)} (${age(now - eventTime(pulling))} ago, no Pulled event since)`);
  if (views.length === 0) evidence.push('no container status yet: the kubelet has not started the pod sandbox');

  const last = events[events.length - 1];
  const text = last?.message ?? '';
  const remediation: RemediationStep[] = [{ description: 'Read the kubelet\'s events for the pod', command: kubectl.podEvents(pod) }];
  let what = initRunning ? `init container ${initRunning.status.name} has not finished` : 'containers not started';
  let explanation = `The pod is on ${node ?? 'a node'} but its containers have not started.`;
  const missing = text.match(/(secret|configmap) "([^"]+)" not found/i);
  if (missing) {
    const kind = missing[1]!.toLowerCase();
    what = `${kind} ${missing[2]} not found for a volume`;
    explanation += ` The kubelet cannot mount a volume: ${kind} ${missing[2]} does not exist in ${ns}, so the pod stays in ContainerCreating until it is created (or the volume is marked optional).`;
    remediation.push({ description: `Check the ${kind} exists`, command: `kubectl get ${kind} ${shellQuote(missing[2]!)} -n ${ns}` });
  } else if (last?.reason === 'FailedMount' || last?.reason === 'FailedAttachVolume') {
    what = 'volume cannot be attached or mounted';
    explanation += ` The kubelet cannot attach or mount one of its volumes (${firstLine(text, 200)}). A volume still attached to another node (Multi-Attach), a zone mismatch, or a failing CSI driver keeps it there.`;
    remediation.push({ description: 'See the volume attachments and the claims', command: `kubectl get volumeattachments; kubectl get pvc -n ${ns}` });
  } else if (last?.reason === 'FailedCreatePodSandBox') {
    what = 'pod sandbox cannot be created';
    explanation += ' The runtime cannot create the pod sandbox, usually because the network plugin fails to give it an address on that node.';
    if (node) remediation.push({ description: `Check the network plugin's pod on ${node}`, command: `kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=${node}` });
  } else if (initRunning) {
    explanation += ` Init container ${initRunning.status.name} is still running: it waits for something (a database, a service, a migration lock) and the main containers start only after it exits.`;
    remediation.push({ description: `Read what ${initRunning.status.name} is waiting for`, command: kubectl.logs(pod, initRunning.status.name) });
  } else if (last) {
    explanation += ` The latest warning is ${last.reason}: ${firstLine(text, 200)}.`;
  } else if (pulling) {
    what = 'image still being pulled';
    explanation += ` The kubelet started pulling the image ${age(now - eventTime(pulling))} before the snapshot and has not finished: a large image, a slow registry or a throttled node link. Nothing has failed yet.`;
  } else {
    explanation += ' No warning event explains why; the kubelet may still be pulling a large image or setting up volumes.';
  }
  remediation.push({ description: 'Read the pod\'s state and volumes', command: kubectl.describePod(pod) });

  const young = since !== undefined && since < YOUNG_MS;
  return {
    severity: young ? (events.length ? 'warning' : 'info') : pulling ? 'warning' : 'critical',
    title: `Pod ${pod.metadata.name} is Pending on ${node ?? 'its node'}${since !== undefined ? ` for ${age(since)}` : ''}: ${what}`,
    object: podRef(pod),
    evidence,
    explanation: young ? `${explanation} The pod was placed only ${age(since ?? 0)} ago, so it may still start.` : explanation,
    remediation,
    confidence: last || initRunning ? 0.8 : 0.6,
    cause: 'other',
  };
}

/** A finding for a pod no scheduler has looked at: no PodScheduled condition, no FailedScheduling event. */
function unseen(pod: Pod, created: number | undefined): Finding {
  const ns = pod.metadata.namespace ?? 'default';
  const young = created !== undefined && created < YOUNG_MS;
  return {
    severity: young ? 'info' : 'critical',
    title: `Pod ${pod.metadata.name} is Pending: no scheduler has acted on it`,
    object: podRef(pod),
    evidence: ['no PodScheduled condition and no FailedScheduling event', ...(created !== undefined ? [`pending for ${age(created)} (created ${pod.metadata.creationTimestamp})`] : [])],
    explanation: 'The pod has no node and no scheduler has recorded a decision about it. Its spec.schedulerName may name a scheduler that is not running, or the scheduler itself is down.',
    remediation: [
      { description: 'See which scheduler the pod asks for', command: `kubectl get pod ${pod.metadata.name} ${nsFlag(ns)}-o jsonpath='{.spec.schedulerName}'` },
      { description: 'Check the default scheduler is running', command: 'kubectl get pods -n kube-system -l component=kube-scheduler' },
    ],
    confidence: 0.6,
    cause: 'other',
  };
}

/**
 * A pod stuck in phase Pending: the scheduler cannot place it (and says why, per node), it is gated,
 * or it sits on a node that does not start its containers.
 */
const rule: Rule = {
  id: 'pod-pending',
  title: 'Pod stuck in Pending',
  severity: 'critical',
  description:
    'The pod is in phase Pending: either no node can take it (not enough free CPU, memory or GPUs, taints it does not tolerate, a node selector or affinity no node matches, anti-affinity, an unbound PersistentVolumeClaim, cordoned nodes, scheduling gates), or it was placed on a node that has not started its containers (a volume that cannot be mounted, a sandbox that cannot be created, a long init container).',
  detection:
    'status.phase=Pending. Unscheduled pods: the PodScheduled=False condition (Unschedulable, SchedulingGated) and the latest FailedScheduling event ("0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn\'t match Pod\'s node affinity/selector. preemption: ..."), parsed into per-reason node counts; the cause is the reason of the nodes that passed the placement checks, the container resource requests and the taint key are evidence, and cluster-autoscaler events say whether capacity is coming. Scheduled pods: containers waiting ContainerCreating / PodInitializing and the pod\'s Warning events; pods whose containers wait in ErrImagePull, ImagePullBackOff, CrashLoopBackOff or CreateContainerConfigError are left to those rules. Pods younger than 2 minutes are info or warning.',
  remediation: [
    { description: 'Read the scheduler\'s message', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Insufficient resources: compare requests with what the nodes have, lower requests or add nodes', command: 'kubectl describe nodes' },
    { description: 'Untolerated taint: add a toleration, or use untainted nodes; node affinity: fix the nodeSelector / affinity or label the nodes' },
    { description: 'Unbound claim: see why the PersistentVolumeClaim is not bound', command: 'kubectl get pvc -n NAMESPACE' },
    { description: 'Cordoned nodes: uncordon them once maintenance is over', command: 'kubectl uncordon NODE' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pod of context.index.suspects) {
      if (pod.status?.phase !== 'Pending' || pod.metadata.deletionTimestamp) continue;
      const created = msSince(pod.metadata.creationTimestamp, context.now);
      const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (pod.spec?.nodeName || scheduled?.status === 'True') {
        const finding = notStarted(context, pod);
        if (finding) findings.push(finding);
      } else if (scheduled?.status === 'False' || eventsWithReason(context.index, pod, 'FailedScheduling').length > 0 || (pod.spec?.schedulingGates?.length ?? 0) > 0) {
        findings.push(unscheduled(context, pod, created));
      } else {
        findings.push(unseen(pod, created));
      }
    }
    return findings;
  },
};

export default rule;
