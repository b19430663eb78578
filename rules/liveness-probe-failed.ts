import type { Finding, Rule } from '../src/model/finding.js';
import { kubectl, lastTermination, podRef, previousLogs, readLogsStep } from '../src/model/pod.js';
import { failureSummary, fixStep, interpret, probeCheckSteps, probeEvidence, probeFailures, probeTiming } from '../src/model/probes.js';
import { eventCount, eventTime } from '../src/model/snapshot-index.js';
import { age } from '../src/model/text.js';

/** Failures of a container the probe has not restarted, older than this, are history. */
const RECENT_MS = 10 * 60 * 1000;

/**
 * A container whose liveness probe fails: after failureThreshold failures in a row the kubelet kills
 * and restarts it. When the restart shows as exit 137 or 143, exit-code-137 / exit-code-143 report the
 * kill and fold this finding in as context; on its own it covers probes that fail but have not (yet)
 * killed the container, and kills whose exit code another rule does not explain.
 */
const rule: Rule = {
  id: 'liveness-probe-failed',
  title: 'Liveness probe failing',
  severity: 'warning',
  description:
    'The kubelet\'s liveness probe of a container fails. After failureThreshold failures in a row the kubelet kills the container and restarts it, so a failing liveness probe turns a slow or briefly stuck application into a restart loop, and a misconfigured one (wrong path or port) restarts a healthy application forever. An application that handles SIGTERM exits 0 when it is restarted this way, which looks like a program that ends by itself: this rule then takes the exit-code-0 finding as its context.',
  detection:
    'Unhealthy events from the kubelet ("Liveness probe failed: HTTP probe failed with statuscode: 404", "... dial tcp 10.1.2.3:8080: connect: connection refused", "... context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "command "cat /tmp/healthy" timed out") matched to the container by fieldPath, Killing events ("Container web failed liveness probe, will be restarted"), restartCount and the last termination (137/143), and the livenessProbe settings from the spec. Critical while the probe keeps restarting the container; a warning when it fails without a restart yet, or the container runs again since its last kill.',
  // A container that handles SIGTERM exits 0 when the probe restarts it: that exit is the kill, not a
  // one-shot program (exit 137 and 143 are left to their rules, which fold this one in).
  supersedes: ['exit-code-0', 'frequent-restarts'],
  remediation: [
    { description: 'See the probe failures and what the endpoint answered', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: '404 or refused connection: fix the probe\'s path or port to match what the application serves' },
    { description: 'Timeouts: raise timeoutSeconds, and add a startupProbe for slow starts' },
    { description: 'Keep dependency checks (database, other services) out of the liveness endpoint' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pf of probeFailures(context, 'liveness')) {
      const { view, pod, killed, sinceStart } = pf;
      // Failures of an earlier instance that did not end in a kill are history, and so is an old blip
      // that stayed below failureThreshold.
      if (!killed && (!sinceStart || context.now - eventTime(pf.latest) > RECENT_MS)) continue;
      const name = view.status.name;
      const running = !!view.status.state?.running;
      const severity = killed && (!running || sinceStart) ? 'critical' : 'warning';
      const t = probeTiming(pf.probe);
      const reading = interpret(context, pf);
      const summary = failureSummary(pf);
      const restarts = view.status.restartCount ?? 0;
      let what: string;
      if (killed && !running) what = `failed ${t.threshold} times in a row and the kubelet restarted the container (${restarts} restart${restarts === 1 ? '' : 's'} so far); it is down now`;
      else if (killed && sinceStart) what = `has restarted the container ${restarts} time${restarts === 1 ? '' : 's'}, and fails again in the instance running now, which will be restarted too`;
      else if (killed) what = `restarted the container ${restarts} time${restarts === 1 ? '' : 's'}; the instance running now has not failed it yet`;
      else {
        const count = pf.failures.reduce((sum, e) => sum + eventCount(e), 0);
        what = `has failed ${count} time${count === 1 ? '' : 's'} in the instance running now, the last ${age(context.now - eventTime(pf.latest))} before the snapshot; failureThreshold=${t.threshold} failures in a row make the kubelet restart the container`;
      }
      const termination = lastTermination(view.status);
      if (killed && termination?.terminated.exitCode === 0) what += `. It exits 0 when the kubelet stops it (it handles SIGTERM), so the restarts look like a program that ends by itself`;
      const title = killed
        ? `Liveness probe of ${name} fails (${summary}) and the kubelet restarts the container`
        : `Liveness probe of ${name} is failing (${summary}), not restarted yet`;
      const finding: Finding = {
        severity,
        title,
        object: podRef(pod, name),
        evidence: probeEvidence(pf),
        explanation: `The liveness probe of ${name} ${what}. ${reading.meaning}`,
        remediation: [
          ...probeCheckSteps(pf),
          readLogsStep(view),
          fixStep(context, pf, reading),
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
