import type { ContainerStateTerminated, ContainerStateWaiting, Pod } from './k8s.js';
import type { Finding, RemediationStep, RuleContext } from './finding.js';
import type { ExitCodeInfo } from './exit-codes.js';
import { describeExitCode } from './exit-codes.js';
import type { ContainerView, Termination } from './pod.js';
import { containers, crashSeverity, finishedSuccessfully, lastTermination, memoryLimit, podRef, previousLogs, readLogsStep, stateEvidence } from './pod.js';
import { controllerOf } from './snapshot-index.js';
import { age, firstLine } from './text.js';

/** A container termination a rule looks at, with its decoded exit code. */
export interface TerminationCase {
  view: ContainerView;
  pod: Pod;
  termination: Termination;
  terminated: ContainerStateTerminated;
  info: ExitCodeInfo;
  /** The last log lines of the crashed container, when they were read. */
  logTail: string[] | undefined;
}

/** What an exit-code rule says about one termination. */
export interface TerminationVerdict {
  title?: string;
  explanation: string;
  remediation: RemediationStep[];
  evidence?: string[];
  confidence?: number;
  cause?: string;
  /** Leave out the "read the previous log" step: the process never ran, so there is no log. */
  noLogs?: boolean;
}

/** terminations() of each rule context: a dozen exit-code rules ask, it is worked out once. */
const terminationsOf = new WeakMap<RuleContext, readonly TerminationCase[]>();

/**
 * Every container termination worth diagnosing: a non-zero exit of a container (init containers
 * included), or an exit 0 of a main container that restartPolicy Always restarts. Finished Job pods
 * and pods being deleted are skipped, as are OOM kills (the oom-killed rule owns those). Worked out
 * once per rule context and shared by the rules that ask: read-only.
 */
export function terminations(context: RuleContext): readonly TerminationCase[] {
  const known = terminationsOf.get(context);
  if (known) return known;
  const cases: TerminationCase[] = [];
  for (const pod of context.index.suspects) {
    // An evicted pod's containers were stopped by the kubelet (exit 143 or 137 by design): the
    // evicted rule diagnoses why, their exit codes are not a crash.
    if (isSettled(context, pod) || pod.status?.reason === 'Evicted') continue;
    for (const view of containers(pod)) {
      const termination = lastTermination(view.status);
      if (!termination) continue;
      const { terminated } = termination;
      if (terminated.reason === 'OOMKilled') continue;
      if (terminated.exitCode === 0) {
        const restartsAnyway = (pod.spec?.restartPolicy ?? 'Always') === 'Always' && (!view.init || view.sidecar);
        if (!restartsAnyway || !(view.status.restartCount ?? 0)) continue;
      }
      const logTail = previousLogs(context.index, view);
      cases.push({ view, pod, termination, terminated, info: describeExitCode(terminated.exitCode), logTail });
    }
  }
  terminationsOf.set(context, cases);
  return cases;
}

/** isSettled() of each pod, per rule context (most rules ask it of every pod). */
const settledOf = new WeakMap<RuleContext, WeakMap<Pod, boolean>>();

/**
 * A pod whose past crashes are no longer a problem: its work finished, it is being deleted (its
 * containers get SIGTERM by design), or it is a failed attempt of a Job that later completed.
 */
export function isSettled(context: RuleContext, pod: Pod): boolean {
  let settled = settledOf.get(context);
  if (!settled) {
    settled = new WeakMap();
    settledOf.set(context, settled);
  }
  let answer = settled.get(pod);
  if (answer === undefined) {
    answer = finishedSuccessfully(pod) || !!pod.metadata.deletionTimestamp || jobComplete(context, pod);
    settled.set(pod, answer);
  }
  return answer;
}

/** A pod of a Job that has completed: its failed attempts are history, not a problem. */
function jobComplete(context: RuleContext, pod: Pod): boolean {
  const ref = controllerOf(pod.metadata.ownerReferences);
  if (ref?.kind !== 'Job') return false;
  const job = context.index.workload('Job', pod.metadata.namespace, ref.name);
  return !!job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
}

/** The evidence every termination finding starts with: the exit code, reason, message and run time. */
export function terminationEvidence(c: TerminationCase): string[] {
  const { termination, terminated, info, view } = c;
  const lines = [`${termination.field}.exitCode=${terminated.exitCode}${info.signal ? ` (${info.signal})` : ''}`];
  if (terminated.reason) lines.push(`${termination.field}.reason=${terminated.reason}`);
  if (terminated.message) lines.push(`${termination.field}.message: ${firstLine(terminated.message)}`);
  const started = terminated.startedAt ? Date.parse(terminated.startedAt) : NaN;
  const finished = terminated.finishedAt ? Date.parse(terminated.finishedAt) : NaN;
  // A process that never started (containerd StartError) has startedAt 1970-01-01T00:00:00Z: no run time.
  if (Number.isFinite(started) && started > 0 && Number.isFinite(finished) && finished >= started) lines.push(`ran ${age(finished - started)} before exiting`);
  lines.push(...stateEvidence(view));
  if (view.init) lines.push(view.sidecar ? 'native sidecar (init container with restartPolicy Always)' : 'init container: the pod cannot start until it succeeds');
  const limit = memoryLimit(view);
  if (limit) lines.push(`resources.limits.memory=${limit}`);
  return lines;
}

/** Build an exit-code rule's findings from its verdict on each termination it accepts. */
export function terminationFindings(
  context: RuleContext,
  accept: (c: TerminationCase) => boolean,
  verdict: (c: TerminationCase) => TerminationVerdict,
): Finding[] {
  return terminations(context)
    .filter(accept)
    .map((c) => {
      const v = verdict(c);
      const container = c.view.status.name;
      const evidence = [...terminationEvidence(c), ...(v.evidence ?? [])];
      if (c.logTail) evidence.push(`previous log, last line: ${c.logTail[c.logTail.length - 1]}`);
      const finding: Finding = {
        severity: crashSeverity(c.view),
        title: v.title ?? `${c.view.init ? 'Init container' : 'Container'} ${container} exited with code ${c.terminated.exitCode} (${c.info.name})`,
        object: podRef(c.pod, container),
        evidence,
        explanation: v.explanation,
        remediation: v.noLogs ? v.remediation : [readLogsStep(c.view), ...v.remediation],
        confidence: v.confidence ?? 0.9,
        exitCode: c.terminated.exitCode,
      };
      if (c.info.signal) finding.signal = c.info.signal;
      if (v.cause) finding.cause = v.cause;
      if (c.logTail) finding.logTail = c.logTail;
      return finding;
    });
}

/** The command and args the container runs, for evidence ("command: /app/server --port 80"). */
export function commandEvidence(view: ContainerView): string | undefined {
  const words = [...(view.spec?.command ?? []), ...(view.spec?.args ?? [])];
  return words.length ? `spec command/args: ${words.join(' ')}` : undefined;
}

/** A container waiting with one of some reasons, in a pod that is not settled. */
export interface WaitingContainer {
  pod: Pod;
  view: ContainerView;
  waiting: ContainerStateWaiting & { reason: string };
}

/** Every container (init containers included) of an unsettled pod whose waiting reason is one of `reasons`. */
export function waitingContainers(context: RuleContext, ...reasons: string[]): WaitingContainer[] {
  return allWaiting(context).filter((w) => reasons.includes(w.waiting.reason));
}

/** Every waiting container of an unsettled pod, found once per rule context (several rules ask). */
const waitingOf = new WeakMap<RuleContext, readonly WaitingContainer[]>();

function allWaiting(context: RuleContext): readonly WaitingContainer[] {
  const known = waitingOf.get(context);
  if (known) return known;
  const found: WaitingContainer[] = [];
  for (const pod of context.index.suspects) {
    if (isSettled(context, pod)) continue;
    for (const view of containers(pod)) {
      const waiting = view.status.state?.waiting;
      if (waiting?.reason) found.push({ pod, view, waiting: waiting as ContainerStateWaiting & { reason: string } });
    }
  }
  waitingOf.set(context, found);
  return found;
}
