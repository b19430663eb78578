import type { ContainerStatus, Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import type { ExitCodeInfo } from '../src/model/exit-codes.js';
import { describeExitCode } from '../src/model/exit-codes.js';
import type { ContainerView, Termination } from '../src/model/pod.js';
import { containers, eventEvidence, eventsWithReason, isAboutContainer, kubectl, lastTermination, podRef, previousLogs, readLogsStep, stateEvidence } from '../src/model/pod.js';
import { commandEvidence, isSettled } from '../src/model/terminations.js';
import { age, firstLine } from '../src/model/text.js';

/** A stable kebab-case name for a decoded exit code, used as the finding's cause. */
function exitCause(info: ExitCodeInfo, reason: string | undefined): string {
  if (info.signal) return info.signal.toLowerCase();
  switch (info.code) {
    case 1:
      return 'application-error';
    case 2:
      return 'usage-error';
    case 125:
      return 'runtime-error';
    case 126:
      return 'command-not-executable';
    case 127:
      return 'command-not-found';
    case 128:
      return reason === 'StartError' ? 'start-error' : 'exit-128';
    case 255:
      return 'exit-minus-1';
    default:
      return 'application-defined';
  }
}

/**
 * The STATUS column kubectl prints for a pod held by this init container (kubectl's printer):
 * Init:REASON for a terminated one with a reason, Init:Signal:N or Init:ExitCode:N without, Init:REASON
 * while it waits (Init:CrashLoopBackOff), Init:I/N while it runs.
 */
function kubectlStatus(status: ContainerStatus, position: number, total: number): string {
  const terminated = status.state?.terminated;
  if (terminated) return terminated.reason ? `Init:${terminated.reason}` : terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
  const waiting = status.state?.waiting?.reason;
  if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
  return `Init:${position - 1}/${total}`;
}

/** What a fix looks like for the common exit codes of an init container. */
function hint(info: ExitCodeInfo, reason: string | undefined, name: string): string {
  if (reason === 'StartError' || info.code === 128) return `The runtime could not start ${name}'s process: fix the command path or its permissions (the termination message names the error)`;
  if (info.code === 127) return `Install the missing command in ${name}'s image, or fix the command in the pod spec`;
  if (info.code === 126) return `Make ${name}'s command executable (chmod +x in the image, or a valid #! line)`;
  if (info.code === 125) return `The runtime failed before ${name}'s command ran: check the image, mounts and security context`;
  if (info.signal === 'SIGKILL') return `${name} was killed (SIGKILL): init containers have no probes, so look for a memory limit reached without an OOM report, activeDeadlineSeconds, or a kill from the node`;
  if (info.signal === 'SIGTERM') return `${name} was stopped (SIGTERM): the pod was being deleted, or something sent it the signal`;
  if (info.signal) return `${name} died of ${info.signal}: a crash of the program or a native library it loads`;
  return `Fix what ${name}'s log says: an init container usually waits for a dependency (database, service, file) or prepares data, and exits non-zero when that fails`;
}

/** Position of an init container among the pod's init containers (1-based), and how many there are. */
function position(pod: Pod, name: string): { at: number; of: number } {
  const specs = pod.spec?.initContainers ?? [];
  const names = specs.length ? specs.map((c) => c.name) : (pod.status?.initContainerStatuses ?? []).map((s) => s.name);
  return { at: names.indexOf(name) + 1, of: names.length };
}

/** The finding for one failed init container. */
function initFinding(context: RuleContext, view: ContainerView, termination: Termination): Finding {
  const { index, now } = context;
  const { pod, status } = view;
  const { terminated, field } = termination;
  const name = status.name;
  const info = describeExitCode(terminated.exitCode);
  const { at: pos, of: total } = position(pod, name);
  const where = `init container ${pos} of ${total}`;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const shown = kubectlStatus(status, pos, total);
  const running = !!status.state?.running;

  const evidence = [`${where}: ${name}${view.spec?.image ? ` (image ${view.spec.image})` : ''}`, `kubectl shows the pod as ${shown}`];
  evidence.push(`${field}.exitCode=${terminated.exitCode} (${info.name}${info.signal && info.signal !== info.name ? `, ${info.signal}` : ''})`);
  if (terminated.reason) evidence.push(`${field}.reason=${terminated.reason}`);
  if (terminated.message) evidence.push(`${field}.message: ${firstLine(terminated.message)}`);
  const started = Date.parse(terminated.startedAt ?? '');
  const finished = Date.parse(terminated.finishedAt ?? '');
  // A process that never started (containerd StartError) has startedAt 1970-01-01T00:00:00Z: no run time.
  if (Number.isFinite(started) && started > 0 && Number.isFinite(finished) && finished >= started) evidence.push(`ran ${age(finished - started)} before exiting, ${age(now - finished)} before the snapshot`);
  evidence.push(...stateEvidence(view));
  const waiting = status.state?.waiting;
  if (waiting?.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message)}`);
  const command = commandEvidence(view);
  if (command) evidence.push(command);
  const before = (pod.status?.initContainerStatuses ?? []).filter((s) => s.name !== name && position(pod, s.name).at < pos);
  const done = before.filter((s) => s.state?.terminated?.exitCode === 0 || s.state?.running).map((s) => s.name);
  if (done.length) evidence.push(`init containers before it completed (or run as sidecars): ${done.join(', ')}`);
  const apps = (pod.status?.containerStatuses ?? []).map((s) => s.name);
  if (apps.length) evidence.push(`app containers not started: ${apps.join(', ')}`);
  evidence.push(...eventsWithReason(index, pod, 'BackOff').filter((e) => isAboutContainer(e, name)).slice(-1).map(eventEvidence));
  const logTail = previousLogs(index, view);
  if (logTail) evidence.push(`previous log, last line: ${logTail[logTail.length - 1]}`);

  const retries =
    policy === 'Never'
      ? 'The pod\'s restartPolicy is Never, so the pod has failed for good (phase Failed); only its controller (a Job) can create another.'
      : running
        ? `The kubelet has restarted it (${status.restartCount ?? 0} restarts so far) and it is running again; if it fails again the pod goes back to Init:CrashLoopBackOff.`
        : `Under restartPolicy ${policy} the kubelet restarts it with a growing back-off (${status.restartCount ?? 0} restarts so far), and the pod stays in ${shown}.`;
  const message = terminated.message ? ` Its termination message: "${firstLine(terminated.message, 200)}".` : '';
  const blocked = apps.length ? `the app container${apps.length > 1 ? 's' : ''} ${apps.join(', ')} never start${apps.length > 1 ? '' : 's'}` : 'the pod\'s app containers never start';
  const explanation = `Init containers run one by one before the app containers, and each must exit 0. ${name}, ${where}, exited with code ${terminated.exitCode}: ${info.meaning}${message} ${retries} Until ${name} succeeds, ${blocked}.`;

  const remediation: RemediationStep[] = [
    readLogsStep(view),
    { description: 'Read the last state, the termination message and the events', command: kubectl.describePod(pod) },
    { description: hint(info, terminated.reason, name) },
  ];
  const undo = kubectl.rolloutUndo(pod, index);
  if (undo) remediation.push({ description: 'If a new version of the init container broke the rollout, roll back to the previous revision', command: undo });

  const finding: Finding = {
    severity: running ? 'warning' : 'critical',
    title: `Init container ${name} (${pos} of ${total}) exited with code ${terminated.exitCode} (${info.name}): the pod cannot start`,
    object: podRef(pod, name),
    evidence,
    explanation,
    remediation,
    confidence: 0.95,
    exitCode: terminated.exitCode,
    cause: exitCause(info, terminated.reason),
  };
  if (info.signal) finding.signal = info.signal;
  if (logTail) finding.logTail = logTail;
  return finding;
}

/**
 * An init container (not a native sidecar) whose last run failed and that has not completed since.
 * Init containers run one by one before the app containers and each must exit 0, so the pod cannot
 * start: kubectl shows Init:Error, Init:CrashLoopBackOff or Init:ExitCode:N.
 */
const rule: Rule = {
  id: 'init-container-failed',
  title: 'Init container failed: the pod cannot start',
  severity: 'critical',
  description:
    'Init containers run one after another before the app containers start, and each must exit 0. One that exits non-zero holds the whole pod: under restartPolicy Always or OnFailure the kubelet restarts it with a growing back-off (Init:CrashLoopBackOff), under Never the pod fails (Init:Error, Init:ExitCode:N). The app containers never start. Native sidecars (init containers with restartPolicy Always) are not covered here.',
  detection:
    'initContainerStatuses whose state.terminated or lastState.terminated has a non-zero exit code, not OOMKilled (oom-killed owns that), and that has not completed since; the position in spec.initContainers, the decoded exit code, the termination message, restartCount, BackOff events and the previous log tail. Pods that are settled, evicted or stopped at their deadline are left to those rules.',
  supersedes: [
    'crash-loop-back-off',
    'pod-pending',
    'exit-code-1',
    'exit-code-125',
    'exit-code-126',
    'exit-code-127',
    'exit-code-128',
    'exit-code-134',
    'exit-code-137',
    'exit-code-139',
    'exit-code-143',
    'exit-code-255',
    'exit-code-app',
    'exit-code-signal',
  ],
  remediation: [
    { description: 'Read the failed init container\'s log', command: 'kubectl logs -n NAMESPACE POD -c CONTAINER --previous' },
    { description: 'Read its last state, the termination message and the events', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Fix what it waits for or prepares (a dependency, a migration, a file), or its command; the kubelet retries on its own under restartPolicy Always / OnFailure' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pod of context.index.suspects) {
      // Evicted and DeadlineExceeded pods had their containers stopped by the kubelet: those rules say why.
      if (isSettled(context, pod) || pod.status?.reason === 'Evicted' || pod.status?.reason === 'DeadlineExceeded') continue;
      for (const view of containers(pod)) {
        if (!view.init || view.sidecar) continue;
        const termination = lastTermination(view.status);
        // state.terminated with exit 0 means it completed (a retry may have succeeded): nothing holds the pod.
        if (!termination || termination.terminated.exitCode === 0) continue;
        // An OOM kill is a root cause of its own, and oom-killed reports it.
        if (termination.terminated.reason === 'OOMKilled') continue;
        findings.push(initFinding(context, view, termination));
      }
    }
    return findings;
  },
};

export default rule;
