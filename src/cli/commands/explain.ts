import type { Rule } from '../../model/finding.js';
import { EXIT, NotFoundError, UsageError } from '../../model/errors.js';
import { describeExitCode, SIGNALS } from '../../model/exit-codes.js';
import { nearNames } from '../../snapshot/select.js';

/** A reason or status Kubernetes shows, what it means and which rule diagnoses it. */
interface ReasonEntry {
  reason: string;
  /** Where it appears. */
  where: string;
  meaning: string;
  rule?: string;
}

const REASONS: ReasonEntry[] = [
  { reason: 'CrashLoopBackOff', where: 'state.waiting.reason (kubelet)', meaning: 'The container keeps stopping and the kubelet restarts it with a growing delay (10s doubling to 5m). A symptom: the last termination (exit code, reason), the events and the previous log say why.', rule: 'crash-loop-back-off' },
  { reason: 'ImagePullBackOff', where: 'state.waiting.reason (kubelet)', meaning: 'Pulling the image failed and the kubelet waits before trying again. The Failed event says why: the image or tag does not exist, the registry wants credentials, a rate limit, or the node cannot reach the registry.', rule: 'image-pull-back-off' },
  { reason: 'ErrImagePull', where: 'state.waiting.reason (kubelet)', meaning: 'The last image pull failed; after a few tries it becomes ImagePullBackOff. The message names the registry\'s answer.', rule: 'image-pull-back-off' },
  { reason: 'InvalidImageName', where: 'state.waiting.reason (kubelet)', meaning: 'The image reference cannot be parsed (upper-case letters, a bad tag or digest). Fix the image field.' },
  { reason: 'ErrImageNeverPull', where: 'state.waiting.reason (kubelet)', meaning: 'imagePullPolicy is Never and the image is not on the node.' },
  { reason: 'CreateContainerConfigError', where: 'state.waiting.reason (kubelet)', meaning: 'The kubelet could not build the container\'s configuration: usually a Secret or ConfigMap (or a key in one) that env or envFrom refers to does not exist. The message names it.' },
  { reason: 'CreateContainerError', where: 'state.waiting.reason (kubelet)', meaning: 'The runtime could not create the container (a name conflict, a bad mount, a missing command).' },
  { reason: 'RunContainerError', where: 'state.waiting.reason (kubelet)', meaning: 'The runtime created the container but could not start it; see the termination message (often StartError, exit 128).', rule: 'exit-code-128' },
  { reason: 'ContainerCreating', where: 'state.waiting.reason (kubelet)', meaning: 'The default waiting state while the image is pulled and volumes are mounted. Stuck here means a mount (FailedMount events) or the sandbox (FailedCreatePodSandBox) fails.', rule: 'pod-pending' },
  { reason: 'PodInitializing', where: 'state.waiting.reason (kubelet)', meaning: 'The app containers wait for the init containers to finish.' },
  { reason: 'OOMKilled', where: 'state/lastState.terminated.reason (container runtime)', meaning: 'The kernel OOM killer ended the container (exit 137) because it reached its memory limit, or the node ran out of memory. After a restart it shows in lastState, not state.', rule: 'oom-killed' },
  { reason: 'Error', where: 'state/lastState.terminated.reason (container runtime)', meaning: 'The container exited non-zero for a reason other than an OOM kill; the exit code says more (kdiag explain CODE).' },
  { reason: 'Completed', where: 'state/lastState.terminated.reason (container runtime)', meaning: 'The container exited 0. Fine for a Job; under restartPolicy Always it is restarted and loops.', rule: 'exit-code-0' },
  { reason: 'StartError', where: 'state/lastState.terminated.reason (containerd)', meaning: 'The runtime could not start the process (exit 128): the entrypoint does not exist or is not executable, or a mount or working directory is bad.', rule: 'exit-code-128' },
  { reason: 'ContainerCannotRun', where: 'state/lastState.terminated.reason (dockershim)', meaning: 'Docker-era clusters: the runtime could not run the command (like StartError).', rule: 'exit-code-128' },
  { reason: 'Evicted', where: 'status.reason of the pod (kubelet)', meaning: 'The kubelet evicted the pod to reclaim a resource the node ran short of (memory, ephemeral-storage, PIDs); status.message names it.', rule: 'evicted' },
  { reason: 'DeadlineExceeded', where: 'status.reason of the pod, or a Job condition', meaning: 'The pod (activeDeadlineSeconds) or Job ran longer than its deadline and was stopped.', rule: 'deadline-exceeded' },
  { reason: 'NodeLost', where: 'status.reason of the pod', meaning: 'The node the pod runs on stopped reporting; kubectl shows the pod as Unknown.', rule: 'node-not-ready' },
  { reason: 'NodeNotReady', where: 'node condition Ready=False/Unknown, event from node-controller', meaning: 'The node\'s kubelet reports it unhealthy, or stopped posting status ("Kubelet stopped posting node status."). Its pods are not served and are evicted after the toleration period.', rule: 'node-not-ready' },
  { reason: 'Pending', where: 'status.phase of the pod', meaning: 'The pod is accepted but not running: not scheduled yet (PodScheduled=False, see the scheduler\'s FailedScheduling message), or its containers are still being created.', rule: 'pod-pending' },
  { reason: 'Unschedulable', where: 'PodScheduled condition reason (scheduler)', meaning: 'No node fits the pod; the message counts the nodes per reason ("0/5 nodes are available: 3 Insufficient cpu, ...").', rule: 'pod-pending' },
  { reason: 'FailedScheduling', where: 'event from default-scheduler', meaning: 'The scheduler found no node for the pod; the message says why per node.', rule: 'pod-pending' },
  { reason: 'Forbidden', where: 'API answer 403, or a FailedCreate event', meaning: 'RBAC refused a read (kdiag carries on without it and says so), or an admission check (quota, PodSecurity, a missing service account) refused to create pods.', rule: 'forbidden' },
  { reason: 'BackOff', where: 'event from kubelet', meaning: '"Back-off restarting failed container" (a crash loop) or "Back-off pulling image" (an image pull).', rule: 'crash-loop-back-off' },
  { reason: 'Unhealthy', where: 'event from kubelet', meaning: 'A liveness, readiness or startup probe failed; the message gives the probe\'s answer. Liveness failures get the container restarted (exit 137 or 143).', rule: 'exit-code-137' },
  { reason: 'Killing', where: 'event from kubelet', meaning: 'The kubelet is stopping a container: after a failed liveness probe ("failed liveness probe, will be restarted"), or for deletion.' },
  { reason: 'FailedMount', where: 'event from kubelet', meaning: 'A volume could not be mounted: a missing Secret or ConfigMap, an unbound PVC, an attach timeout.' },
  { reason: 'Terminating', where: 'kubectl STATUS of a pod with a deletionTimestamp', meaning: 'The pod is being deleted. Stuck there: finalizers, or a node that is gone.', rule: 'stuck-terminating' },
  { reason: 'BackoffLimitExceeded', where: 'Job condition Failed (job-controller)', meaning: 'The Job\'s pods failed spec.backoffLimit times (6 by default): the Job is Failed and creates no more pods.', rule: 'job-failed' },
];

function lines(...parts: (string | undefined | false)[]): string {
  return `${parts.filter((p): p is string => typeof p === 'string').join('\n')}\n`;
}

/** The rule catalog, loaded only when a topic needs more than one rule. */
async function catalog(): Promise<typeof import('../../../rules/index.js')> {
  return import('../../../rules/index.js');
}

/**
 * The rule an exit code names (ruleForExitCode, one of the exit-code-* rules). A rule's id is its
 * file name (rules/ID.ts): that file loads alone rather than the whole catalog.
 */
async function exitCodeRule(id: string): Promise<Rule> {
  return ((await import(`../../../rules/${id}.js`)) as { default: Rule }).default;
}

async function explainCode(code: number, output: 'text' | 'json'): Promise<number> {
  const info = describeExitCode(code);
  const rule = await exitCodeRule(info.rule);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'ExitCode', ...info, ruleDescription: rule.description }, null, 2)}\n`);
    return EXIT.OK;
  }
  process.stdout.write(
    lines(
      `Exit code ${info.code}: ${info.name}${info.signal ? ` (signal ${info.signalNumber})` : ''}`,
      '',
      info.meaning,
      rule.id !== 'exit-code-signal' && rule.id !== 'exit-code-app' && `\nIn Kubernetes: ${rule.description}`,
      code === 137 && '\nTell the two apart with the termination reason: OOMKilled (kdiag explain oom-killed) or Error (kdiag explain exit-code-137).',
      `\nDiagnosed by rule ${info.rule} (kdiag explain ${info.rule}).`,
    ),
  );
  return EXIT.OK;
}

function explainRule(rule: Rule, output: 'text' | 'json'): number {
  if (output === 'json') {
    const { match: _match, ...meta } = rule;
    process.stdout.write(`${JSON.stringify({ kind: 'Rule', ...meta }, null, 2)}\n`);
    return EXIT.OK;
  }
  process.stdout.write(
    lines(
      `${rule.id} (${rule.severity}): ${rule.title}`,
      '',
      rule.description,
      '',
      `How kdiag detects it: ${rule.detection}`,
      rule.supersedes?.length ? `Explains (and folds in): ${rule.supersedes.join(', ')}` : undefined,
      '',
      'What to do:',
      ...rule.remediation.map((step, i) => `  ${i + 1}. ${step.description}${step.command ? `\n     $ ${step.command}` : ''}`),
    ),
  );
  return EXIT.OK;
}

function explainReason(entry: ReasonEntry, output: 'text' | 'json'): number {
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify({ kind: 'Reason', ...entry, rule: entry.rule ?? null }, null, 2)}\n`);
    return EXIT.OK;
  }
  process.stdout.write(lines(`${entry.reason}: ${entry.where}`, '', entry.meaning, entry.rule && `\nDiagnosed by rule ${entry.rule} (kdiag explain ${entry.rule}).`));
  return EXIT.OK;
}

/** `kdiag explain TOPIC`: an exit code, a signal name, a Kubernetes reason, or a rule id. Offline. */
export async function runExplain(topic: string, output: 'text' | 'json'): Promise<number> {
  const trimmed = topic.trim();
  if (/^-?\d+$/.test(trimmed)) {
    const code = Number(trimmed);
    if (code < 0 || code > 255) throw new UsageError(`exit code ${trimmed} is out of range: container exit codes are 0-255 (larger values wrap modulo 256)`);
    return explainCode(code, output);
  }
  const { ruleById, rules } = await catalog();
  const rule = ruleById(trimmed);
  if (rule) return explainRule(rule, output);
  const entry = REASONS.find((r) => r.reason.toLowerCase() === trimmed.toLowerCase());
  if (entry) return explainReason(entry, output);
  const signal = Object.entries(SIGNALS).find(([, name]) => name === trimmed.toUpperCase() || name === `SIG${trimmed.toUpperCase()}`);
  if (signal) return explainCode(128 + Number(signal[0]), output);
  const known = [...rules.map((r) => r.id), ...REASONS.map((r) => r.reason), ...Object.values(SIGNALS)];
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const near = nearNames(trimmed.toLowerCase(), byLower.keys()).map((k) => byLower.get(k)!);
  throw new NotFoundError(`nothing to explain for "${trimmed}": give an exit code (0-255), a signal (SIGKILL), a reason (CrashLoopBackOff) or a rule id (kdiag rules)${near.length ? `; did you mean: ${near.join(', ')}?` : ''}`, near);
}
