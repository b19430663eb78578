import type { Pod, Workload } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import { describeExitCode } from '../src/model/exit-codes.js';
import { cronJobOf, jobFailure, jobPods, jobSucceeded, laterSuccessfulRun } from '../src/model/jobs.js';
import { containers, eventEvidence, eventsWithReason, kubectl, msSince, nsFlag, podRef } from '../src/model/pod.js';
import { controllerOf } from '../src/model/snapshot-index.js';
import { isSettled } from '../src/model/terminations.js';
import { age, firstLine } from '../src/model/text.js';

/** `600s = 10m`: a deadline in seconds, with its human length. */
function seconds(value: number | undefined): string {
  return value === undefined ? 'not set' : `${value}s = ${age(value * 1000)}`;
}

/** When a failed pod stopped: its containers' last finishedAt, else its Ready condition turning False. */
function stoppedAt(pod: Pod): string | undefined {
  const finished = containers(pod)
    .map((v) => v.status.state?.terminated?.finishedAt)
    .filter((t): t is string => !!t && Number.isFinite(Date.parse(t)))
    .sort((a, b) => Date.parse(b) - Date.parse(a));
  return finished[0] ?? pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False')?.lastTransitionTime;
}

function podFinding(context: RuleContext, pod: Pod): Finding {
  const { index, now } = context;
  const ns = pod.metadata.namespace;
  const deadline = pod.spec?.activeDeadlineSeconds;
  const start = pod.status?.startTime;
  const end = stoppedAt(pod);
  const ran = start && end ? Date.parse(end) - Date.parse(start) : undefined;
  const evidence = ['status.phase=Failed, status.reason=DeadlineExceeded'];
  if (pod.status?.message) evidence.push(`status.message: ${firstLine(pod.status.message)}`);
  evidence.push(`spec.activeDeadlineSeconds=${seconds(deadline)}`);
  if (start) evidence.push(`status.startTime=${start}${end ? `, stopped at ${end}` : ''}${ran !== undefined && Number.isFinite(ran) ? `: active ${age(ran)}` : ''}`);
  const stopped: string[] = [];
  for (const view of containers(pod)) {
    const terminated = view.status.state?.terminated;
    const kind = view.init ? 'init container' : 'container';
    if (terminated) {
      const info = describeExitCode(terminated.exitCode);
      evidence.push(`${kind} ${view.status.name}: state.terminated.exitCode=${terminated.exitCode} (${info.name})${terminated.reason ? `, reason ${terminated.reason}` : ''}`);
      if (terminated.exitCode !== 0) stopped.push(view.status.name);
    } else if (view.status.state?.waiting?.reason) {
      evidence.push(`${kind} ${view.status.name}: state.waiting.reason=${view.status.state.waiting.reason} (never ran to the end)`);
    }
  }
  evidence.push(...eventsWithReason(index, pod, 'DeadlineExceeded').slice(-1).map(eventEvidence));
  const job = controllerOf(pod.metadata.ownerReferences);
  if (job?.kind === 'Job') evidence.push(`pod of job/${job.name}: the Job counts it as a failed pod`);
  const since = msSince(end, now);
  const target = kubectl.target(pod, index);
  const working = stopped[0] ?? pod.spec?.containers?.[0]?.name;
  const remediation: RemediationStep[] = [
    ...(working ? [{ description: `Read the log of ${working}, which was still working when the deadline passed`, command: kubectl.logs(pod, working) }] : []),
    { description: 'Read the pod\'s last state and events', command: kubectl.describePod(pod) },
    {
      description: `If the work really needs longer, raise spec.activeDeadlineSeconds in the pod template (${target}); otherwise find what made it slow (a dependency it waited for, too little CPU)`,
      command: `kubectl edit ${target} ${nsFlag(ns)}`.trimEnd(),
    },
  ];
  return {
    severity: 'critical',
    title: `Pod stopped at its deadline: active longer than activeDeadlineSeconds=${deadline ?? '?'}${ran !== undefined && Number.isFinite(ran) ? ` (ran ${age(ran)})` : ''}`,
    object: podRef(pod),
    evidence,
    explanation: `The kubelet stops a pod once it has been active on the node longer than spec.activeDeadlineSeconds (${seconds(deadline)}, counted from status.startTime, init containers and restarts included): it kills the containers and marks the pod Failed with reason DeadlineExceeded. The pod is not restarted.${stopped.length ? ` ${stopped.join(', ')} ${stopped.length === 1 ? 'was still running and was killed (its exit code is' : 'were still running and were killed (their exit codes are'} the kill, not a crash).` : ''}${since !== undefined ? ` It was stopped ${age(since)} before the snapshot.` : ''}`,
    remediation,
    confidence: 0.95,
    cause: 'pod-deadline',
  };
}

function jobFinding(context: RuleContext, job: Workload): Finding {
  const { index, now } = context;
  const name = job.metadata.name ?? '';
  const ns = job.metadata.namespace;
  const failed = jobFailure(job)!;
  const deadline = job.spec?.activeDeadlineSeconds;
  const created = job.metadata.creationTimestamp;
  const ran = created && failed.lastTransitionTime ? Date.parse(failed.lastTransitionTime) - Date.parse(created) : undefined;
  const cron = cronJobOf(job);
  const later = laterSuccessfulRun(context, job);
  const pods = jobPods(context, job);
  const s = job.status ?? {};

  const evidence = [`condition ${failed.type}=True (${failed.reason ?? '?'})${failed.message ? `: ${firstLine(failed.message)}` : ''}`];
  evidence.push(`spec.activeDeadlineSeconds=${seconds(deadline)}`);
  if (created) evidence.push(`created ${created}${failed.lastTransitionTime ? `, failed ${failed.lastTransitionTime}` : ''}${ran !== undefined && Number.isFinite(ran) ? `: active ${age(ran)}` : ''}`);
  evidence.push(`status: ${s.succeeded ?? 0} succeeded, ${s.failed ?? 0} failed, ${s.active ?? 0} active${job.spec?.completions !== undefined ? ` (completions ${job.spec.completions})` : ''}`);
  if (cron) {
    const schedule = index.workload('CronJob', ns, cron)?.spec?.schedule;
    evidence.push(`created by cronjob/${cron}${schedule ? ` (schedule "${schedule}")` : ''}`);
  }
  if (later) evidence.push(`a later run of the CronJob, job/${later.metadata.name}, completed`);
  evidence.push(...index.eventsFor('Job', ns, name, job.metadata.uid).filter((e) => e.reason === 'DeadlineExceeded' || e.reason === 'SuccessfulDelete').slice(-2).map(eventEvidence));
  if (pods.length) evidence.push(`pods of the Job in the snapshot: ${pods.map((p) => `${p.metadata.name} (${p.status?.phase ?? '?'}${p.metadata.deletionTimestamp ? ', being deleted' : ''})`).join(', ')}`);
  else evidence.push('no pod of the Job is left in the snapshot: the Job controller deletes the ones still running at the deadline');

  const flag = nsFlag(ns);
  const remediation: RemediationStep[] = [
    { description: 'Read the Job\'s conditions, pod counts and events', command: `kubectl describe job ${name} ${flag}`.trimEnd() },
    cron
      ? { description: `If a run really needs longer, raise jobTemplate.spec.activeDeadlineSeconds of cronjob/${cron}; otherwise find what made this run slow`, command: `kubectl edit cronjob/${cron} ${flag}`.trimEnd() }
      : { description: 'If the work really needs longer, create the Job again with a larger spec.activeDeadlineSeconds; otherwise find what made it slow (a dependency, too little CPU, a queue)' },
  ];
  if (pods.length) remediation.splice(1, 0, { description: 'Read the log of one of its pods', command: `kubectl logs ${flag}job/${name}` });
  if (cron) remediation.push({ description: 'Once fixed, run it again now instead of waiting for the schedule (printed only)', command: `kubectl create job ${name}-retry --from=cronjob/${cron} ${flag}`.trimEnd() });
  const since = msSince(failed.lastTransitionTime, now);

  return {
    severity: later ? 'warning' : 'critical',
    title: `Job ${name}${cron ? ` (CronJob ${cron})` : ''} failed: active longer than its activeDeadlineSeconds=${deadline ?? '?'}`,
    object: { kind: 'Job', namespace: ns ?? null, name },
    evidence,
    explanation: `The Job controller fails a Job that has been active longer than spec.activeDeadlineSeconds (${seconds(deadline)}), whatever its retries left: it stops and deletes its running pods and sets condition Failed with reason DeadlineExceeded. The work it was doing did not finish${since !== undefined ? ` (it failed ${age(since)} before the snapshot)` : ''}.${later ? ` A later run, job/${later.metadata.name}, has completed since, so this failure is history unless its work matters on its own.` : ''}`,
    remediation,
    confidence: 0.95,
    cause: 'job-deadline',
    affected: pods.map((p) => podRef(p)),
  };
}

/**
 * A pod or a Job stopped at its deadline: the kubelet fails a pod active longer than
 * spec.activeDeadlineSeconds (reason DeadlineExceeded, "Pod was active on the node longer than the
 * specified deadline"), and the Job controller fails a Job active longer than its own
 * activeDeadlineSeconds (condition Failed, reason DeadlineExceeded, "Job was active longer than
 * specified deadline"). The containers' exit codes at that moment (143, 137) are the kill.
 */
const rule: Rule = {
  id: 'deadline-exceeded',
  title: 'Pod or Job stopped at its activeDeadlineSeconds',
  severity: 'critical',
  description:
    'A pod active on its node longer than spec.activeDeadlineSeconds is killed by the kubelet and marked Failed with reason DeadlineExceeded; a Job active longer than its spec.activeDeadlineSeconds is failed by the Job controller (condition Failed, reason DeadlineExceeded), which deletes its running pods. Either way the work did not finish and is not retried. The kill shows as exit 143 or 137 on the containers that were still running.',
  detection:
    'Pods with status.reason=DeadlineExceeded ("Pod was active on the node longer than the specified deadline"), with spec.activeDeadlineSeconds, status.startTime and the containers\' termination times; Jobs with condition Failed (or FailureTarget) reason DeadlineExceeded ("Job was active longer than specified deadline"), with spec.activeDeadlineSeconds, creation and failure times, pod counts, the CronJob that created them and the DeadlineExceeded events. A CronJob run followed by a completed later run is a warning.',
  supersedes: ['exit-code-137', 'exit-code-143'],
  remediation: [
    { description: 'Read what was still running when the deadline passed', command: 'kubectl describe job NAME -n NAMESPACE' },
    { description: 'Raise activeDeadlineSeconds if the work really needs longer, or find what made it slow (a dependency, too little CPU)' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pod of context.index.suspects) {
      if (pod.status?.reason !== 'DeadlineExceeded' || isSettled(context, pod)) continue;
      findings.push(podFinding(context, pod));
    }
    for (const job of context.snapshot.owners) {
      if (job.kind !== 'Job' || jobSucceeded(job)) continue;
      if (jobFailure(job)?.reason !== 'DeadlineExceeded') continue;
      findings.push(jobFinding(context, job));
    }
    return findings;
  },
};

export default rule;
