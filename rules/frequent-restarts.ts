import type { Finding, Rule } from '../src/model/finding.js';
import { describeExitCode } from '../src/model/exit-codes.js';
import { containers, eventEvidence, eventsWithReason, isAboutContainer, kubectl, msSince, podRef, previousLogs, readLogsStep } from '../src/model/pod.js';
import { eventTime } from '../src/model/snapshot-index.js';
import { DEFAULT_THRESHOLDS, thresholdsOf } from '../src/model/settings.js';
import { isSettled } from '../src/model/terminations.js';
import { age, firstLine } from '../src/model/text.js';

/** restartCount from which a running container counts as restarting often, unless thresholds.restartCount says otherwise. */
const FREQUENT_RESTARTS = DEFAULT_THRESHOLDS.restartCount;

/** A restart within this long before the snapshot is recent: older restarts are history. */
const RECENT_MS = 60 * 60 * 1000;

/** Kubelet events that mark a container restarting. */
const RESTART_EVENTS = ['BackOff', 'Killing', 'Started'];

/**
 * A container that is running and ready now but has restarted many times, lately. It is a symptom:
 * the rule that explains its last termination (oom-killed, an exit-code rule) folds it as context;
 * on its own it says the container is unstable though the pod looks healthy.
 */
const rule: Rule = {
  id: 'frequent-restarts',
  title: 'Container restarts often, though it is running now',
  severity: 'warning',
  description: `A container that is running and ready now, but has restarted ${FREQUENT_RESTARTS} times or more and restarted within the last hour. Each restart drops its in-flight work and, while it is down, its share of the traffic; a pod that looks Running in kubectl get may be crashing every few minutes. The last termination (exit code, reason, a past OOM kill) says why; the rule that explains it takes this finding as context.`,
  detection: `containerStatuses (and native sidecars) with state.running, ready=true and restartCount >= ${FREQUENT_RESTARTS} (thresholds.restartCount in the config file sets another), whose lastState.terminated.finishedAt is within ${RECENT_MS / 60000} minutes of the capture time, or with BackOff / Killing / Started events about the container in that window; the last termination decoded, and the pod's age for the restart rate.`,
  remediation: [
    { description: 'Read the log of the previous (crashed) instance', command: 'kubectl logs -n NAMESPACE POD -c CONTAINER --previous' },
    { description: 'Read the last termination state and the events', command: 'kubectl describe pod -n NAMESPACE POD' },
  ],
  match: (context) => {
    const { index, now } = context;
    const threshold = thresholdsOf(context).restartCount;
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      if (pod.status?.phase !== 'Running' || isSettled(context, pod)) continue;
      for (const view of containers(pod)) {
        if (view.init && !view.sidecar) continue;
        const { status } = view;
        const restarts = status.restartCount ?? 0;
        if (!status.state?.running || status.ready !== true || restarts < threshold) continue;
        const name = status.name;
        const last = status.lastState?.terminated;
        const lastAgo = msSince(last?.finishedAt, now);
        const events = eventsWithReason(index, pod, ...RESTART_EVENTS).filter((e) => isAboutContainer(e, name) && now - eventTime(e) <= RECENT_MS);
        const recent = (lastAgo !== undefined && lastAgo <= RECENT_MS) || events.length > 0;
        if (!recent) continue;
        // Without a recorded termination, the latest restart event says when it last restarted.
        const latestEvent = events.reduce((at, e) => Math.max(at, eventTime(e)), 0);
        const restartedAgo = lastAgo ?? (latestEvent ? now - latestEvent : undefined);

        const info = last ? describeExitCode(last.exitCode) : undefined;
        const lastText = last && info ? `${last.reason === 'OOMKilled' ? 'OOMKilled' : info.name}, exit ${last.exitCode}` : 'no recorded termination';
        const podAge = msSince(pod.status?.startTime ?? pod.metadata.creationTimestamp, now);
        const evidence = [`restartCount=${restarts}`, `state.running since ${status.state.running.startedAt ?? '?'}, ready=true`];
        if (last && info) {
          evidence.push(`lastState.terminated.exitCode=${last.exitCode} (${info.name})${last.reason ? `, reason ${last.reason}` : ''}`);
          if (last.message) evidence.push(`lastState.terminated.message: ${firstLine(last.message)}`);
          if (last.finishedAt) evidence.push(`last termination at ${last.finishedAt}${lastAgo !== undefined ? ` (${age(lastAgo)} before the snapshot)` : ''}`);
        }
        if (podAge !== undefined && podAge > 0) evidence.push(`${restarts} restarts in the pod's ${age(podAge)} (about one every ${age(podAge / restarts)})`);
        evidence.push(...events.filter((e) => e.reason !== 'Started').slice(-2).map(eventEvidence));
        const logTail = previousLogs(index, view);
        if (logTail) evidence.push(`previous log, last line: ${logTail[logTail.length - 1]}`);

        const finding: Finding = {
          severity: 'warning',
          title: `Container ${name} restarts often: ${restarts} restarts, the last ${restartedAgo !== undefined ? `${age(restartedAgo)} ago` : 'within the hour'} (${lastText})`,
          object: podRef(pod, name),
          evidence,
          explanation: `${name} is running and ready now, but it has restarted ${restarts} times${podAge !== undefined && podAge > 0 ? ` in ${age(podAge)}` : ''}, the last time ${restartedAgo !== undefined ? `${age(restartedAgo)} before the snapshot` : 'within the last hour'}. Each restart drops its in-flight work and takes it out of service until it is ready again. ${last && info ? `The last termination was ${lastText}: ${last.reason === 'OOMKilled' ? 'the kernel killed it for memory (its limit, or the node\'s).' : info.meaning}` : 'Kubernetes kept no record of the last termination; the previous log and the events say why it stopped.'}`,
          remediation: [readLogsStep(view), { description: 'Read the last termination state and the events', command: kubectl.describePod(pod) }],
          confidence: last ? 0.85 : 0.7,
        };
        if (last) finding.exitCode = last.exitCode;
        if (info?.signal) finding.signal = info.signal;
        if (logTail) finding.logTail = logTail;
        findings.push(finding);
      }
    }
    return findings;
  },
};

export default rule;
