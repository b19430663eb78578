import type { Pod, Workload } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import { describeExitCode } from '../src/model/exit-codes.js';
import { cronJobOf, jobFailure, jobPods, jobSucceeded, laterSuccessfulRun } from '../src/model/jobs.js';
import { containers, eventEvidence, kubectl, lastTermination, msSince, nsFlag, podRef, previousLogs } from '../src/model/pod.js';
import { age, compareText, firstLine } from '../src/model/text.js';

/** Why the Job failed, from its Failed condition's reason; `retrying` while pods fail and it still runs. */
type JobCause = 'backoff-limit' | 'pod-failure-policy' | 'failed-indexes' | 'retrying' | 'other';

/** The backoffLimit the API server defaults to when a Job does not set one. */
const DEFAULT_BACKOFF_LIMIT = 6;

/** spec.backoffLimit of an Indexed Job that limits retries per index instead. */
const MAX_INT32 = 2147483647;

/** How many failed pods the evidence lists one by one. */
const LISTED_PODS = 5;

function causeOf(reason: string | undefined): JobCause {
  if (reason === 'BackoffLimitExceeded') return 'backoff-limit';
  if (reason === 'PodFailurePolicy') return 'pod-failure-policy';
  if (reason === 'MaxFailedIndexesExceeded' || reason === 'FailedIndexes') return 'failed-indexes';
  return 'other';
}

/** How one failed pod of the Job failed: a pod-level reason, or its first container that exited non-zero. */
interface PodFailure {
  pod: Pod;
  /** When it failed (epoch ms), for ordering. */
  at: number;
  text: string;
  container?: string;
  exitCode?: number;
  signal?: string;
}

function podFailure(pod: Pod): PodFailure | undefined {
  const reason = pod.status?.reason;
  let worst: PodFailure | undefined;
  for (const view of containers(pod)) {
    const termination = lastTermination(view.status);
    const terminated = termination?.terminated;
    if (!terminated || terminated.exitCode === 0) continue;
    const info = describeExitCode(terminated.exitCode);
    const at = Date.parse(terminated.finishedAt ?? '') || 0;
    const text = `${view.init ? 'init container' : 'container'} ${view.status.name} exited ${terminated.exitCode} (${info.name}${terminated.reason && terminated.reason !== 'Error' ? `, ${terminated.reason}` : ''})${terminated.message ? `: ${firstLine(terminated.message, 120)}` : ''}`;
    const failure: PodFailure = { pod, at, text, container: view.status.name, exitCode: terminated.exitCode };
    if (info.signal) failure.signal = info.signal;
    if (!worst || at > worst.at) worst = failure;
    // The first init container that failed is why the others never ran.
    if (view.init) break;
  }
  if (reason === 'Evicted' || reason === 'DeadlineExceeded') {
    // The kubelet stopped its containers: their exit codes are the kill, not the failure.
    return { pod, at: worst?.at ?? 0, text: `${reason}${pod.status?.message ? `: ${firstLine(pod.status.message, 120)}` : ''}` };
  }
  if (worst) return worst;
  if (pod.status?.phase === 'Failed') return { pod, at: 0, text: `phase Failed${reason ? ` (${reason})` : ''}` };
  return undefined;
}

function jobFinding(context: RuleContext, job: Workload): Finding | undefined {
  const { index, now } = context;
  const name = job.metadata.name ?? '';
  const ns = job.metadata.namespace;
  const failed = jobFailure(job);
  const s = job.status ?? {};
  if (failed?.reason === 'DeadlineExceeded') return undefined;
  const retrying = !failed && (s.failed ?? 0) > 0 && !(s.succeeded ?? 0) && (s.active ?? 0) > 0;
  if (!failed && !retrying) return undefined;

  const cause: JobCause = failed ? causeOf(failed.reason) : 'retrying';
  const limit = job.spec?.backoffLimit;
  const cron = cronJobOf(job);
  const later = laterSuccessfulRun(context, job);
  const failures = jobPods(context, job)
    .map(podFailure)
    .filter((f): f is PodFailure => !!f)
    .sort((a, b) => b.at - a.at || compareText(a.pod.metadata.name ?? '', b.pod.metadata.name ?? ''));
  const latest = failures[0];

  const evidence: string[] = [];
  if (failed) evidence.push(`condition ${failed.type}=True (${failed.reason ?? '?'})${failed.message ? `: ${firstLine(failed.message)}` : ''}${failed.lastTransitionTime ? ` at ${failed.lastTransitionTime}` : ''}`);
  // With backoffLimitPerIndex the API server sets backoffLimit to the largest int32: it means no limit.
  if (limit === undefined || limit < MAX_INT32) evidence.push(`spec.backoffLimit=${limit ?? `${DEFAULT_BACKOFF_LIMIT} (default)`}`);
  evidence.push(`status: ${s.failed ?? 0} failed, ${s.succeeded ?? 0} succeeded, ${s.active ?? 0} active${job.spec?.completions !== undefined ? ` (completions ${job.spec.completions})` : ''}`);
  if (cron) {
    const schedule = index.workload('CronJob', ns, cron)?.spec?.schedule;
    evidence.push(`created by cronjob/${cron}${schedule ? ` (schedule "${schedule}")` : ''}`);
  }
  if (later) evidence.push(`a later run of the CronJob, job/${later.metadata.name}, completed`);
  for (const f of failures.slice(0, LISTED_PODS)) evidence.push(`pod ${f.pod.metadata.name}: ${f.text}`);
  if (failures.length > LISTED_PODS) evidence.push(`and ${failures.length - LISTED_PODS} more failed pods`);
  if (!failures.length) evidence.push('no failed pod of the Job is left in the snapshot (deleted, or garbage-collected)');
  evidence.push(...index.eventsFor('Job', ns, name, job.metadata.uid).filter((e) => e.type === 'Warning').slice(-1).map(eventEvidence));
  const tailView = latest?.container ? containers(latest.pod).find((v) => v.status.name === latest.container) : undefined;
  const logTail = tailView ? previousLogs(index, tailView) : undefined;
  // The log stays in the evidence: a Job finding has no container for the report's log section.
  if (logTail) evidence.push(...logTail.slice(-2).map((line) => `log of ${latest!.pod.metadata.name}/${latest!.container}: ${line}`));

  // The exit codes the failed pods share, for the title: "exit 1 (application error)".
  const codes = [...new Set(failures.filter((f) => f.exitCode !== undefined).map((f) => f.exitCode!))];
  const exits = codes.length ? codes.slice(0, 3).map((code) => `exit ${code} (${describeExitCode(code).name})`).join(', ') : undefined;
  const exitsText = exits ? `, ${exits}` : '';
  // An Indexed Job's pods carry their index in the batch.kubernetes.io/job-completion-index label.
  const indexes = [...new Set(failures.map((f) => f.pod.metadata.labels?.['batch.kubernetes.io/job-completion-index']).filter((i): i is string => !!i))].sort((a, b) => Number(a) - Number(b));
  const podsText = `${s.failed ?? failures.length} failed pod${(s.failed ?? failures.length) === 1 ? '' : 's'}`;
  const since = msSince(failed?.lastTransitionTime, now);
  const owned = cron ? ` (CronJob ${cron})` : '';
  const titles: Record<JobCause, string> = {
    'backoff-limit': `Job ${name}${owned} failed: backoff limit ${limit ?? DEFAULT_BACKOFF_LIMIT} reached after ${podsText}${exits ? `, ${exits}` : ''}`,
    'pod-failure-policy': `Job ${name}${owned} failed: a podFailurePolicy rule failed it${exitsText}`,
    'failed-indexes': `Job ${name}${owned} failed: ${indexes.length ? `index${indexes.length > 1 ? 'es' : ''} ${indexes.join(', ')} failed` : 'indexes failed'}${exitsText}`,
    retrying: `Job ${name}${owned} is failing: ${podsText}, none succeeded, still retrying${exitsText}`,
    other: `Job ${name}${owned} failed: ${failed?.reason ?? 'unknown reason'}${exitsText}`,
  };
  const explanations: Record<JobCause, string> = {
    'backoff-limit': `The Job controller retries a failed pod up to spec.backoffLimit (${limit ?? `${DEFAULT_BACKOFF_LIMIT}, the default`}) times with a growing delay; this Job used them all, so it is marked Failed and creates no more pods. The work did not run to the end.`,
    'pod-failure-policy': `A rule of the Job's podFailurePolicy matched a pod failure and failed the whole Job at once, without using the remaining retries${failed?.message ? ` (${firstLine(failed.message, 200)})` : ''}.`,
    'failed-indexes': `Some indexes of this Indexed Job failed more often than backoffLimitPerIndex allows, or more indexes failed than maxFailedIndexes: the Job is marked Failed${failed?.message ? ` (${firstLine(failed.message, 200)})` : ''}.`,
    retrying: `${s.failed ?? failures.length} of this Job's pods failed and none has succeeded yet; the Job controller keeps creating new pods (up to spec.backoffLimit=${limit ?? DEFAULT_BACKOFF_LIMIT}). Unless the cause goes away, the Job will fail.`,
    other: `The Job controller marked the Job Failed (${failed?.reason ?? '?'}${failed?.message ? `: ${firstLine(failed.message, 200)}` : ''}).`,
  };
  const why = latest ? ` The most recent failure: pod ${latest.pod.metadata.name}, ${latest.text}.` : '';
  const history = later ? ` A later run of the CronJob, job/${later.metadata.name}, has completed since, so this failure is history unless its work matters on its own.` : cron && failed ? ` CronJob ${cron} starts the next run on its schedule; it will fail the same way unless the cause is fixed.` : '';
  const when = since !== undefined && failed ? ` It failed ${age(since)} before the snapshot.` : '';

  const flag = nsFlag(ns);
  const remediation: RemediationStep[] = [];
  if (latest?.container) remediation.push({ description: `Read the log of the failed ${latest.container} container in ${latest.pod.metadata.name}`, command: kubectl.logs(latest.pod, latest.container) });
  else remediation.push({ description: 'Read the log of one of the Job\'s pods', command: `kubectl logs ${flag}job/${name}` });
  remediation.push({ description: 'Read the Job\'s conditions, pod counts and events', command: `kubectl describe job ${name} ${flag}`.trimEnd() });
  if (cron) remediation.push({ description: 'Once fixed, run it again now instead of waiting for the schedule (printed only)', command: `kubectl create job ${name}-retry --from=cronjob/${cron} ${flag}`.trimEnd() });
  else if (failed) remediation.push({ description: 'Once fixed, delete the Job and create it again from its manifest: a Failed Job is never retried, and its pod template cannot be changed' });

  const finding: Finding = {
    severity: failed && !later ? 'critical' : 'warning',
    title: titles[cause],
    object: { kind: 'Job', namespace: ns ?? null, name },
    evidence,
    explanation: `${explanations[cause]}${why}${history}${when}`,
    remediation,
    confidence: failed ? 0.95 : 0.8,
    cause,
    affected: failures.map((f) => podRef(f.pod)),
  };
  if (latest?.exitCode !== undefined) finding.exitCode = latest.exitCode;
  if (latest?.signal) finding.signal = latest.signal;
  return finding;
}

/**
 * A Job that failed (condition Failed: BackoffLimitExceeded "Job has reached the specified backoff
 * limit", a podFailurePolicy rule, failed indexes), or one whose pods keep failing while it still runs.
 * A Job that completed is never reported; a Job stopped at its deadline is left to deadline-exceeded.
 */
const rule: Rule = {
  id: 'job-failed',
  title: 'Job failed: its pods failed until the backoff limit',
  severity: 'critical',
  description:
    'A Job retries failed pods up to spec.backoffLimit (6 by default), then marks itself Failed (reason BackoffLimitExceeded) and creates no more: the batch work did not run to the end. A podFailurePolicy rule or failed indexes of an Indexed Job can fail it sooner. A Job whose pods have failed, none succeeded, and that still runs is a warning: it is on its way there.',
  detection:
    'Jobs with condition Failed (or FailureTarget) True and a reason other than DeadlineExceeded (BackoffLimitExceeded, PodFailurePolicy, MaxFailedIndexesExceeded); Jobs with status.failed > 0, no succeeded pod and active pods. spec.backoffLimit, the failed / succeeded / active counts, the Job\'s failed pods in the snapshot with their decoded exit codes (listed as affected), the CronJob that created it and whether a later run of it completed. Jobs with condition Complete are skipped.',
  remediation: [
    { description: 'Read the log of a failed pod', command: 'kubectl logs -n NAMESPACE job/NAME' },
    { description: 'Read the Job\'s conditions, pod counts and events', command: 'kubectl describe job NAME -n NAMESPACE' },
    { description: 'For a CronJob, re-run it once fixed (printed only)', command: 'kubectl create job NAME-retry --from=cronjob/CRONJOB -n NAMESPACE' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const job of context.snapshot.owners) {
      if (job.kind !== 'Job' || jobSucceeded(job)) continue;
      const finding = jobFinding(context, job);
      if (finding) findings.push(finding);
    }
    return findings;
  },
};

export default rule;
