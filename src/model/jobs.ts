import type { Condition, Pod, Workload } from './k8s.js';
import type { RuleContext } from './finding.js';
import { controllerOf } from './snapshot-index.js';

/** A Job's condition of this type when its status is True (Failed, FailureTarget, Complete, ...). */
export function jobCondition(job: Workload, type: string): Condition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/**
 * Why a Job failed: its Failed condition, or FailureTarget (Kubernetes 1.31+ sets it first, while the
 * Job's remaining pods are stopped, and Failed once they are gone).
 */
export function jobFailure(job: Workload): Condition | undefined {
  return jobCondition(job, 'Failed') ?? jobCondition(job, 'FailureTarget');
}

/** Whether a Job has finished successfully (Complete, or SuccessCriteriaMet on 1.31+). */
export function jobSucceeded(job: Workload): boolean {
  return !!jobCondition(job, 'Complete') || !!jobCondition(job, 'SuccessCriteriaMet');
}

/** The name of the CronJob that created a Job, when it has one. */
export function cronJobOf(job: Workload): string | undefined {
  const owner = controllerOf(job.metadata.ownerReferences);
  return owner?.kind === 'CronJob' ? owner.name : undefined;
}

/** The pods of a Job in the snapshot (matched by the controller reference's uid when both sides have one). */
export function jobPods(context: RuleContext, job: Workload): Pod[] {
  return context.snapshot.pods.filter((pod) => {
    const ref = controllerOf(pod.metadata.ownerReferences);
    if (ref?.kind !== 'Job' || ref.name !== job.metadata.name || pod.metadata.namespace !== job.metadata.namespace) return false;
    return !ref.uid || !job.metadata.uid || ref.uid === job.metadata.uid;
  });
}

/**
 * A later run of the same CronJob that completed: once it has, an earlier failed run is history (the
 * CronJob keeps a few failed Jobs, failedJobsHistoryLimit, long after its next runs succeeded).
 */
export function laterSuccessfulRun(context: RuleContext, job: Workload): Workload | undefined {
  const cron = cronJobOf(job);
  if (!cron) return undefined;
  const created = Date.parse(job.metadata.creationTimestamp ?? '');
  if (!Number.isFinite(created)) return undefined;
  return context.snapshot.owners
    .filter((other) => other.kind === 'Job' && other !== job && other.metadata.namespace === job.metadata.namespace && cronJobOf(other) === cron)
    .filter((other) => Date.parse(other.metadata.creationTimestamp ?? '') > created && jobSucceeded(other))
    .sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''))[0];
}
