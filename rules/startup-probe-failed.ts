import type { Finding, Rule } from '../src/model/finding.js';
import { kubectl, podRef, previousLogs, readLogsStep } from '../src/model/pod.js';
import { failureSummary, fixStep, interpret, probeCheckSteps, probeEvidence, probeFailures, probeTiming } from '../src/model/probes.js';
import { age } from '../src/model/text.js';

/**
 * A container whose startup probe does not pass: liveness and readiness probes wait for it, and after
 * failureThreshold × periodSeconds the kubelet kills the container and starts it again, so a probe
 * that never passes keeps the container from ever starting. The kill shows as exit 137 or 143, which
 * the exit-code rules cannot tell from other kills; this rule names it and folds them in.
 */
const rule: Rule = {
  id: 'startup-probe-failed',
  title: 'Startup probe failing: container never starts',
  severity: 'critical',
  description:
    'The kubelet\'s startup probe of a container does not pass. Until it does, the container is not considered started (liveness and readiness probes do not run) and, after initialDelaySeconds + failureThreshold × periodSeconds, the kubelet kills it and starts it again: a probe that never passes, or an application slower than that budget, keeps the container from ever starting.',
  detection:
    'Unhealthy events from the kubelet ("Startup probe failed: ...") matched to the container by fieldPath, Killing events ("Container web failed startup probe, will be restarted"), the container\'s started flag, restartCount and last termination (137/143), and the startupProbe settings. Critical when the probe has restarted the container; a warning while the current instance still has budget left. Containers that have started (started=true) are left out.',
  supersedes: ['crash-loop-back-off', 'exit-code-137', 'exit-code-143'],
  remediation: [
    { description: 'See the probe failures and what the endpoint answered', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Slow start: raise failureThreshold so that failureThreshold × periodSeconds covers the start-up time' },
    { description: '404 or refused connection that never ends: fix the probe\'s path or port' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pf of probeFailures(context, 'startup')) {
      const { view, pod, killed, sinceStart, startedAt } = pf;
      if (view.status.started === true || view.status.ready === true) continue;
      if (!killed && !sinceStart) continue;
      const name = view.status.name;
      const t = probeTiming(pf.probe);
      const budget = t.initialDelay + t.threshold * t.period;
      const summary = failureSummary(pf);
      const reading = interpret(context, pf);
      const restarts = view.status.restartCount ?? 0;
      const runningFor = startedAt !== undefined ? context.now - startedAt : undefined;
      const state = killed
        ? `The startup probe of ${name} did not pass within its budget of ${budget}s (initialDelaySeconds=${t.initialDelay} + failureThreshold=${t.threshold} × periodSeconds=${t.period}), so the kubelet killed the container and started it again (${restarts} restart${restarts === 1 ? '' : 's'} so far): it never gets to run.`
        : `The startup probe of ${name} has not passed yet${runningFor !== undefined ? ` after ${age(runningFor)}` : ''}; the container gets ${budget}s (initialDelaySeconds=${t.initialDelay} + failureThreshold=${t.threshold} × periodSeconds=${t.period}) before the kubelet kills and restarts it.`;
      const finding: Finding = {
        severity: killed ? 'critical' : 'warning',
        title: killed
          ? `Container ${name} never finishes starting: its startup probe fails (${summary}) and the kubelet restarts it`
          : `Startup probe of ${name} is failing (${summary}), container not started yet`,
        object: podRef(pod, name),
        evidence: probeEvidence(pf),
        explanation: `${state} ${reading.meaning}`,
        remediation: [
          ...probeCheckSteps(pf),
          readLogsStep(view),
          fixStep(context, pf, reading.reading === 'slow' ? { reading: 'slow', fix: `Give the start more time: failureThreshold × periodSeconds (now ${t.threshold * t.period}s) must cover it` } : reading),
          { description: 'See every probe failure and kill', command: kubectl.podEvents(pod) },
        ],
        confidence: reading.reading === 'unknown' ? 0.8 : 0.9,
        cause: pf.cause,
      };
      const tail = killed ? previousLogs(context.index, view) : undefined;
      if (tail) finding.logTail = tail;
      findings.push(finding);
    }
    return findings;
  },
};

export default rule;
