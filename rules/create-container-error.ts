import type { Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { ContainerView } from '../src/model/pod.js';
import { kubectl, podRef, stateEvidence } from '../src/model/pod.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { waitingContainers } from '../src/model/terminations.js';
import type { StartErrorCause } from '../src/model/container-start.js';
import { classifyStartError, containerLabel, failedEvents, imageEvidence, repeatEvidence, startErrorSteps, startErrorWhat, startErrorWhy } from '../src/model/container-start.js';
import { MAX_TEXT, firstLine } from '../src/model/text.js';

/** Why the runtime (or the kubelet's own pre-create / pre-start hooks) refused to create the container. */
type CreateCause = StartErrorCause | 'runtime-timeout' | 'internal-hook' | 'other';

const REASONS = ['CreateContainerError', 'PreCreateHookError', 'PreStartHookError'];

// containerd gives up on a CreateContainer that takes longer than the kubelet's deadline, but keeps
// working on it: the kubelet's retry then finds the name still taken ("failed to reserve container
// name ... is reserved for ..."; CRI-O: "name is reserved"). Both say the runtime is too slow.
const TIMEOUT = /context deadline exceeded|DeadlineExceeded|failed to reserve container name|name is reserved|is reserved for/i;

/** The cause a CreateContainerError message stands for. */
function classify(reason: string, message: string): CreateCause {
  if (reason !== 'CreateContainerError') return 'internal-hook';
  const start = classifyStartError(message);
  if (start) return start;
  if (TIMEOUT.test(message)) return 'runtime-timeout';
  return 'other';
}

/** Remediation for causes the shared start-error steps do not cover. */
function steps(cause: CreateCause, view: ContainerView, index: SnapshotIndex, message: string): RemediationStep[] {
  const { pod } = view;
  const node = pod.spec?.nodeName;
  const describe = { description: 'Read the runtime\'s message and the events', command: kubectl.describePod(pod) };
  switch (cause) {
    case 'runtime-timeout':
      return [
        ...(node
          ? [
              { description: `Check node ${node}: conditions, pressure, how many pods it runs`, command: kubectl.describeNode(node) },
              { description: `Read the container runtime's log on ${node} (slow disk, a stuck image unpack, too many containers)`, command: `kubectl debug node/${node} -it --image=busybox:1.36 -- chroot /host journalctl -u containerd --since -30m` },
            ]
          : []),
        { description: 'The kubelet retries on its own; if the node stays slow, move the pod (delete it so its controller re-creates it elsewhere) and drain the node', command: `kubectl delete pod ${pod.metadata.namespace ? `-n ${pod.metadata.namespace} ` : ''}${pod.metadata.name}` },
        describe,
      ];
    case 'internal-hook':
      return [
        describe,
        ...(node
          ? [
              { description: `The kubelet's CPU, memory, topology or device manager refused: read the kubelet log on ${node}`, command: `kubectl debug node/${node} -it --image=busybox:1.36 -- chroot /host journalctl -u kubelet --since -30m` },
              { description: `Check the node's allocatable resources and device plugins`, command: kubectl.describeNode(node) },
            ]
          : []),
      ];
    case 'other':
      return [describe, { description: 'Read the events in order', command: kubectl.podEvents(pod) }];
    default:
      return [...startErrorSteps(cause, view, index, message), describe];
  }
}

/** What each cause means, completing "The runtime could not create CONTAINER because ...". */
function why(cause: CreateCause, message: string, reason: string, pod: Pod): string {
  switch (cause) {
    case 'runtime-timeout':
      return 'the container runtime did not answer within the kubelet\'s deadline (context deadline exceeded); the runtime keeps working on the request, so the kubelet\'s retries then find the container name still reserved. The node\'s runtime is overloaded or stuck (slow or full disk, a large image still unpacking, many containers starting at once)';
    case 'internal-hook':
      return `the kubelet's own ${reason === 'PreCreateHookError' ? 'pre-create' : 'pre-start'} step failed: its CPU, memory, topology or device manager (a device plugin) could not prepare the container`;
    case 'other':
      return 'the container runtime refused; its message says why';
    default:
      return startErrorWhy(cause, message, pod);
  }
}

/**
 * CreateContainerError: the runtime refused to create the container (a spec it cannot build, a
 * mount it cannot make, a timeout). With CRI-O, runc starts the process while creating, so an
 * entrypoint that is missing or not executable shows here rather than as RunContainerError.
 */
const rule: Rule = {
  id: 'create-container-error',
  title: 'Container runtime cannot create the container (CreateContainerError)',
  severity: 'critical',
  description:
    'The kubelet asked the container runtime to create the container and it refused, so the container never runs. The runtime\'s message says why: a spec it cannot generate (a hostPath it cannot create, a bad mount), an entrypoint that is missing or not executable (CRI-O starts the process at create time), or a runtime too slow to answer (context deadline exceeded, then "name is reserved"). PreCreateHookError and PreStartHookError are the kubelet\'s own resource managers failing at the same step.',
  detection:
    'state.waiting.reason CreateContainerError, PreCreateHookError or PreStartHookError on a container or init container; the waiting message and the kubelet\'s Failed events ("Error: ...", "Internal PreStartContainer hook failed: ...") carry the runtime\'s message: "failed to generate container ... spec", "container create failed: ... runc create failed: ...", "context deadline exceeded", "failed to reserve container name".',
  supersedes: ['pod-pending'],
  remediation: [
    { description: 'Read the runtime\'s message in the events', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Entrypoint missing or not executable: fix the command or the image' },
    { description: 'Mount errors: fix the hostPath / subPath the message names' },
    { description: 'Deadline exceeded / name reserved: check the node\'s container runtime and disk', command: 'kubectl describe node NODE' },
  ],
  match: (context) => {
    const { index } = context;
    const findings: Finding[] = [];
    for (const { pod, view, waiting } of waitingContainers(context, ...REASONS)) {
      const reason = waiting.reason;
      const name = view.status.name;
      const events = failedEvents(index, pod, name, /^(Error: |Internal Pre(Create|Start)Container hook failed)/);
      const message = waiting.message || events[events.length - 1]?.message || '';
      const cause = classify(reason, message);

      const evidence = [...stateEvidence(view)];
      if (waiting.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message, MAX_TEXT)}`);
      // Distinct runtime messages, newest last: a timeout is usually followed by "name is reserved".
      const seen = new Set<string>();
      const distinct = [...events].reverse().filter((event) => !seen.has(event.message ?? '') && !!seen.add(event.message ?? ''));
      evidence.push(...distinct.slice(0, 3).reverse().map((event) => repeatEvidence(event, waiting.message)));
      // The command matters only when the runtime could not run it.
      evidence.push(...imageEvidence(view, cause.startsWith('entrypoint') || cause === 'empty-command' || cause === 'other'));
      if (pod.spec?.nodeName) evidence.push(`node ${pod.spec.nodeName}`);
      if (view.init) evidence.push('init container: the pod cannot start until it runs');

      const what =
        cause === 'runtime-timeout'
          ? 'the runtime timed out'
          : cause === 'internal-hook'
            ? `${reason === 'PreCreateHookError' ? 'pre-create' : 'pre-start'} hook failed`
            : cause === 'other'
              ? 'the runtime refused'
              : startErrorWhat(cause);
      findings.push({
        severity: 'critical',
        title: `${containerLabel(view)} cannot be created (${reason}): ${what}`,
        object: podRef(pod, name),
        evidence,
        explanation: `The runtime could not create ${name} because ${why(cause, message, reason, pod)}. The container never ran, so it has no log.`,
        remediation: steps(cause, view, index, message),
        confidence: cause === 'other' ? 0.6 : 0.85,
        cause,
      });
    }
    return findings;
  },
};

export default rule;
