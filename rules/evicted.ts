import type { Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import { eventEvidence, eventsWithReason, kubectl, msSince, nsFlag, podRef } from '../src/model/pod.js';
import { isSettled } from '../src/model/terminations.js';
import { age, firstLine } from '../src/model/text.js';

/** What the node ran short of, from the kubelet's eviction message. */
type EvictionCause = 'memory' | 'ephemeral-storage' | 'pids' | 'disk-pressure' | 'other';

/** A container (or the pod) the kubelet blamed: what it used against what it requested. */
interface Usage {
  container: string;
  using: string;
  request: string;
}

/** What an eviction message says. */
interface Reading {
  cause: EvictionCause;
  /** The resource as the message names it (memory, ephemeral-storage, inodes, pids) or the node conditions. */
  what: string;
  threshold?: { quantity: string; available: string };
  usage: Usage[];
  /** A local-storage limit the pod itself went over (emptyDir sizeLimit, ephemeral-storage limit). */
  limit?: string;
  /** The pod was refused at admission because the node had a pressure condition. */
  admission: boolean;
}

/**
 * Read the kubelet's eviction message (pkg/kubelet/eviction/helpers.go). Node-pressure evictions say
 * `The node was low on resource: memory. Threshold quantity: 100Mi, available: 82Mi. ` and then, per
 * container over its request, `Container web was using 1200Mi, which exceeds its request of 0. `
 * (Kubernetes 1.29+: `..., request is 0, has larger consumption of memory. `). Admission refusals say
 * `The node had condition: [DiskPressure]. ` (prefixed `Pod ` or `Pod was rejected: `). A pod over its
 * own local-storage limits is evicted with `Usage of EmptyDir volume "x" exceeds the limit "1Gi". `,
 * `Container x exceeded its local ephemeral storage limit "2Gi". ` or `Pod ephemeral local storage
 * usage exceeds the total limit of containers 4Gi. `.
 */
function readEvictionMessage(message: string): Reading {
  const usage: Usage[] = [];
  for (const m of message.matchAll(/(?:Container|Pod) (\S+) was using (\S+?), (?:which exceeds its request of|request is) (\S+?)[,.](?:\s|$)/g)) {
    usage.push({ container: m[1]!, using: m[2]!, request: m[3]! });
  }
  const thresholdMatch = message.match(/Threshold quantity: (\S+?), available: (\S+?)\.(?:\s|$)/);
  const threshold = thresholdMatch ? { quantity: thresholdMatch[1]!, available: thresholdMatch[2]! } : undefined;
  const reading = (cause: EvictionCause, what: string, extra: Partial<Reading> = {}): Reading => ({ cause, what, usage, admission: false, ...(threshold ? { threshold } : {}), ...extra });

  const low = message.match(/The node was low on resource: ([\w./-]+?)\.(?:\s|$)/)?.[1];
  if (low) {
    if (low === 'memory') return reading('memory', low);
    if (low === 'ephemeral-storage') return reading('ephemeral-storage', low);
    if (low === 'pids') return reading('pids', low);
    // Inodes run out on the node's filesystem: the same DiskPressure, counted in files rather than bytes.
    if (low === 'inodes') return reading('disk-pressure', low);
    return reading('other', low);
  }
  const conditions = message.match(/The node had condition: \[([^\]]*)\]/)?.[1];
  if (conditions !== undefined) {
    const first = conditions.split(/[\s,]+/).find(Boolean) ?? '';
    const cause: EvictionCause = first === 'MemoryPressure' ? 'memory' : first === 'DiskPressure' ? 'disk-pressure' : first === 'PIDPressure' ? 'pids' : 'other';
    return reading(cause, conditions, { admission: true });
  }
  const emptyDir = message.match(/Usage of EmptyDir volume "([^"]+)" exceeds the limit "([^"]+)"/);
  if (emptyDir) return reading('ephemeral-storage', 'ephemeral-storage', { limit: `emptyDir volume ${emptyDir[1]} over its sizeLimit ${emptyDir[2]}` });
  const container = message.match(/Container (\S+) exceeded its local ephemeral storage limit "([^"]+)"/);
  if (container) return reading('ephemeral-storage', 'ephemeral-storage', { limit: `container ${container[1]} over its ephemeral-storage limit ${container[2]}` });
  const pod = message.match(/Pod ephemeral local storage usage exceeds the total limit of containers (\S+?)\.(?:\s|$)/);
  if (pod) return reading('ephemeral-storage', 'ephemeral-storage', { limit: `the pod over the sum of its containers' ephemeral-storage limits (${pod[1]})` });
  return reading('other', 'unknown');
}

/** How many other pods of the same workload are ready, by the pods in the snapshot and the workload's status. */
function readyReplicas(context: RuleContext, pod: Pod): { owner: string; ready: number } | undefined {
  const { index, snapshot } = context;
  const owner = index.ownerOf(pod);
  if (!owner) return undefined;
  const namespace = pod.metadata.namespace;
  const siblings = snapshot.pods.filter((other) => {
    if (other === pod || other.metadata.namespace !== namespace || other.metadata.deletionTimestamp) return false;
    const o = index.ownerOf(other);
    return o?.kind === owner.kind && o.name === owner.name;
  });
  const readyPods = siblings.filter((other) => other.status?.phase === 'Running' && other.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  const status = index.workload(owner.kind, namespace, owner.name)?.status;
  // The workload's own count covers ready pods the snapshot did not read (a scope of one pod).
  const counted = owner.kind === 'DaemonSet' ? status?.numberReady : owner.kind === 'Job' ? undefined : status?.readyReplicas;
  return { owner: `${owner.kind.toLowerCase()}/${owner.name}`, ready: Math.max(readyPods, counted ?? 0) };
}

/** When the pod was evicted: its DisruptionTarget or Ready condition, else the Evicted event. */
function evictedAt(pod: Pod, eventTime: string | undefined): string | undefined {
  const conditions = pod.status?.conditions ?? [];
  const disruption = conditions.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
  const ready = conditions.find((c) => c.type === 'Ready' && c.status === 'False');
  return disruption?.lastTransitionTime ?? eventTime ?? ready?.lastTransitionTime;
}

const CAUSE_TEXT: Record<EvictionCause, string> = {
  memory: 'memory',
  'ephemeral-storage': 'ephemeral storage',
  pids: 'process IDs',
  'disk-pressure': 'disk',
  other: 'a resource',
};

/**
 * A pod the kubelet evicted: phase Failed, reason Evicted. The kubelet evicts pods when the node runs
 * short of memory, disk or PIDs (pods using most above their requests go first), when a pod goes over
 * its own local-storage limits, and refuses new pods while the node reports a pressure condition.
 * An evicted pod is never restarted; its controller makes a new one, and the Failed pod object stays.
 */
const rule: Rule = {
  id: 'evicted',
  title: 'Pod evicted by the kubelet (node low on memory, disk or PIDs)',
  severity: 'critical',
  description:
    'The kubelet evicted the pod: the node ran short of memory, ephemeral storage (disk) or process IDs and it reclaimed them by stopping pods, those using the most above their requests first; or the pod went over its own ephemeral-storage limits; or it was refused because the node had a pressure condition. An evicted pod is not restarted: its controller creates a replacement, and the Failed pod stays behind until it is deleted. Critical when the workload has no other ready pod, a warning otherwise.',
  detection:
    'status.phase=Failed with status.reason=Evicted; status.message names the resource ("The node was low on resource: memory.", "ephemeral-storage", "pids", "The node had condition: [DiskPressure].") and the containers over their requests; the Evicted event, the node\'s conditions, the containers\' requests, and the ready pods of the same workload (pods in the snapshot and the workload\'s ready count).',
  remediation: [
    { description: 'Set memory (and ephemeral-storage) requests near real use, so the pod is not the first to go', command: 'kubectl set resources deployment/NAME -n NAMESPACE -c CONTAINER --requests=memory=<value>' },
    { description: 'Read the node\'s conditions and what else runs there', command: 'kubectl describe node NODE' },
    { description: 'Clean up the evicted pods once understood (printed only: it deletes every Failed pod of the namespace)', command: 'kubectl delete pod -n NAMESPACE --field-selector=status.phase==Failed' },
  ],
  match: (context) => {
    const { index, now } = context;
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      if (pod.status?.phase !== 'Failed' || pod.status?.reason !== 'Evicted' || isSettled(context, pod)) continue;
      const message = pod.status.message ?? '';
      const reading = readEvictionMessage(message);
      const ns = pod.metadata.namespace;
      const node = pod.spec?.nodeName;
      const events = eventsWithReason(index, pod, 'Evicted');
      const lastEvent = events[events.length - 1];
      const when = evictedAt(pod, lastEvent?.lastTimestamp ?? lastEvent?.eventTime ?? undefined);
      const since = msSince(when, now);
      const replicas = readyReplicas(context, pod);
      const target = kubectl.target(pod, index);

      const evidence = ['status.phase=Failed, status.reason=Evicted'];
      if (message) evidence.push(`status.message: ${firstLine(message, 400)}`);
      if (when) evidence.push(`evicted at ${when}${since !== undefined ? ` (${age(since)} before the snapshot)` : ''}${node ? ` on node ${node}` : ''}`);
      if (reading.threshold) evidence.push(`eviction threshold ${reading.threshold.quantity}, available on the node ${reading.threshold.available}`);
      for (const u of reading.usage) {
        const spec = pod.spec?.containers?.find((c) => c.name === u.container);
        const resource = reading.cause === 'memory' ? 'memory' : 'ephemeral-storage';
        const declared = spec?.resources?.requests?.[resource];
        evidence.push(`container ${u.container} used ${u.using} against a request of ${u.request}${spec ? ` (resources.requests.${resource}=${declared ?? 'not set'})` : ''}`);
      }
      if (reading.limit) evidence.push(`over its own limit: ${reading.limit}`);
      if (pod.status.qosClass) evidence.push(`status.qosClass=${pod.status.qosClass}`);
      evidence.push(...events.slice(-1).map(eventEvidence));
      const nodeObject = index.node(node);
      if (nodeObject) {
        const pressure = (nodeObject.status?.conditions ?? []).filter((c) => /Pressure$/.test(c.type));
        if (pressure.length) evidence.push(`node ${node} now: ${pressure.map((c) => `${c.type}=${c.status}`).join(', ')}`);
      }
      if (replicas) evidence.push(replicas.ready ? `${replicas.owner} has ${replicas.ready} ready pod${replicas.ready === 1 ? '' : 's'}` : `${replicas.owner} has no ready pod`);
      else evidence.push('the pod has no controller: nothing recreates it');

      const down = !replicas || replicas.ready === 0;
      const severity = down ? 'critical' : 'warning';
      const blamed = reading.usage[0];
      const what = CAUSE_TEXT[reading.cause];
      const where = node ? `node ${node}` : 'its node';
      const on = node ? ` on ${node}` : '';
      const byWho = blamed ? `; container ${blamed.container} used ${blamed.using} against a request of ${blamed.request}` : '';
      const title = reading.limit
        ? `Pod evicted: ${reading.limit}`
        : reading.admission
          ? `Pod evicted at admission: ${where} had condition ${reading.what}`
          : `Pod evicted: ${where} ran low on ${what}${byWho}`;

      const explanations: Record<EvictionCause, string> = {
        memory: `The kubelet${on} saw available memory fall below its eviction threshold and evicted pods to get it back, starting with those using the most memory above their requests (BestEffort, then Burstable pods).${blamed ? ` ${blamed.container} used ${blamed.using} against a request of ${blamed.request}, which put this pod near the front.` : ''}`,
        'ephemeral-storage': reading.limit
          ? `The kubelet evicted the pod because it wrote more local data than allowed: ${reading.limit}. Container logs, the writable layer and emptyDir volumes count as ephemeral storage.`
          : `The kubelet${on} ran short of disk for ephemeral storage (container logs, writable layers, emptyDir volumes) and evicted pods by how much they use above their ephemeral-storage requests.${blamed ? ` ${blamed.container} used ${blamed.using} against a request of ${blamed.request}.` : ''}`,
        pids: `The kubelet${on} ran short of process IDs and evicted pods to free them; a pod that starts many processes or threads is a likely culprit.`,
        'disk-pressure': reading.admission
          ? `The pod was assigned to ${where} while the node reported ${reading.what}, and the kubelet refused to run it (reason Evicted).`
          : `The kubelet${on} ran short of ${reading.what === 'inodes' ? 'inodes (too many files)' : 'disk'} and evicted pods to free it.`,
        other: `The kubelet evicted the pod${message ? ` (${firstLine(message, 200)})` : ''}.`,
      };
      if (reading.admission && reading.cause !== 'disk-pressure') explanations[reading.cause] = `The pod was assigned to ${where} while the node reported ${reading.what}, and the kubelet refused to run it (reason Evicted).`;
      const after = replicas
        ? replicas.ready
          ? ` An evicted pod is not restarted; ${replicas.owner} has ${replicas.ready} ready pod${replicas.ready === 1 ? '' : 's'} now, so the workload is degraded rather than down, but it will happen again under the same pressure.`
          : ` An evicted pod is not restarted, and ${replicas.owner} has no ready pod now: the workload is down until a replacement becomes ready.`
        : ' An evicted pod is not restarted, and nothing owns this one: it stays down until it is created again.';

      const remediation: RemediationStep[] = [];
      const container = blamed?.container ?? pod.spec?.containers?.[0]?.name ?? '<container>';
      // A pod's resources cannot be changed in place: the fix goes into its workload's template, or
      // into the manifest a bare pod is created from.
      const fix = (description: string, flags: string): RemediationStep =>
        replicas ? { description, command: `kubectl set resources ${target} ${nsFlag(ns)}-c ${container} ${flags}` } : { description: `${description}: a bare pod cannot be changed in place, so set it in the manifest it is created from` };
      if (reading.cause === 'memory') {
        remediation.push(fix(`Set ${container}'s memory request near what it really uses${blamed ? ` (it used ${blamed.using})` : ''}, and a memory limit, so it is not the first pod evicted`, `--requests=memory=${blamed?.using ?? '<request>'}`));
      } else if (reading.cause === 'ephemeral-storage') {
        remediation.push(
          reading.limit
            ? { description: `Give ${container} the local storage it needs (the emptyDir sizeLimit or its ephemeral-storage limit), or make it write less (logs, temporary files)${replicas ? '' : ': a bare pod cannot be changed in place, so set it in the manifest it is created from'}`, ...(replicas ? { command: `kubectl edit ${target} ${nsFlag(ns)}`.trimEnd() } : {}) }
            : fix(`Request the ephemeral storage ${container} uses and cap it with a limit, so the scheduler counts it and the kubelet evicts the pod that overuses`, `--requests=ephemeral-storage=${blamed?.using ?? '<request>'} --limits=ephemeral-storage=<limit>`),
        );
      }
      if (node) remediation.push({ description: `Read ${node}'s conditions (MemoryPressure, DiskPressure, PIDPressure) and what runs there`, command: kubectl.describeNode(node) });
      remediation.push({ description: 'Read the eviction event and the pod\'s last state', command: kubectl.describePod(pod) });
      remediation.push({
        description: 'Clean up evicted pods once understood (printed only: it deletes every Failed pod in the namespace, failed Job pods included)',
        command: `kubectl delete pod ${nsFlag(ns)}--field-selector=status.phase==Failed`,
      });

      findings.push({
        severity,
        title,
        object: podRef(pod),
        evidence,
        explanation: `${explanations[reading.cause]}${after}`,
        remediation,
        confidence: reading.cause === 'other' ? 0.8 : 0.95,
        cause: reading.cause,
      });
    }
    return findings;
  },
};

export default rule;
