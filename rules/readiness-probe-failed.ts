import type { Finding, Rule, Severity } from '../src/model/finding.js';
import { kubectl, podRef } from '../src/model/pod.js';
import { failureSummary, fixStep, interpret, notReadyFor, probeCheckSteps, probeEvidence, probeFailures } from '../src/model/probes.js';
import { eventTime } from '../src/model/snapshot-index.js';
import { age } from '../src/model/text.js';

/** A pod not Ready for longer than this is out of service, not warming up. */
const DOWN_MS = 5 * 60 * 1000;
/** A container running for less than this may still be warming up. */
const WARMING_MS = 2 * 60 * 1000;
/** Failures of a Ready container older than this are history. */
const RECENT_MS = 10 * 60 * 1000;

/**
 * A running container whose readiness probe fails: the pod is taken out of its Services' endpoints (no
 * traffic) until the probe passes again. Unlike liveness, nothing is restarted.
 */
const rule: Rule = {
  id: 'readiness-probe-failed',
  title: 'Readiness probe failing: pod gets no traffic',
  severity: 'warning',
  description:
    'The kubelet\'s readiness probe of a running container fails, so the pod is marked not Ready and removed from its Services\' endpoints: it receives no traffic, and a rollout waiting for it stalls. The application is still starting, reports itself unhealthy (a dependency is down), answers too slowly, or the probe points at the wrong path or port.',
  detection:
    'Unhealthy events from the kubelet ("Readiness probe failed: Get "http://10.1.2.3:8080/ready": dial tcp 10.1.2.3:8080: connect: connection refused", "... HTTP probe failed with statuscode: 503") matched to the container by fieldPath, recorded while the current container instance runs; the container\'s ready flag, the pod\'s Ready condition and its lastTransitionTime, and the readinessProbe settings. Critical when the pod has not been Ready for over 5 minutes; a warning when it is not ready for less, or flaps while Ready; info while the container started less than 2 minutes ago. Containers that are not running and pods being deleted are left out.',
  remediation: [
    { description: 'See the probe failures and what the endpoint answered', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: '404 or refused connection: fix the probe\'s path or port to match what the application serves' },
    { description: '5xx: the application reports a failing dependency; its log says which' },
    { description: 'Timeouts: raise timeoutSeconds' },
  ],
  match: (context) => {
    const findings: Finding[] = [];
    for (const pf of probeFailures(context, 'readiness')) {
      const { view, pod, startedAt } = pf;
      // A container that is not running is explained by its waiting or crash state, not by readiness.
      if (!view.status.state?.running || !pf.sinceStart) continue;
      const name = view.status.name;
      const lastAt = eventTime(pf.latest);
      const runningFor = startedAt !== undefined ? context.now - startedAt : undefined;
      const ready = view.status.ready === true;
      const summary = failureSummary(pf);
      const reading = interpret(context, pf);
      let severity: Severity;
      let title: string;
      let state: string;
      if (ready) {
        // Failures below failureThreshold while Ready, after the warm-up: the probe flaps.
        const afterWarmup = startedAt === undefined || lastAt - startedAt > DOWN_MS;
        if (!afterWarmup || context.now - lastAt > RECENT_MS) continue;
        severity = 'warning';
        title = `Readiness probe of ${name} fails intermittently (${summary})`;
        state = `${name} is Ready now, but its readiness probe failed ${age(context.now - lastAt)} before the snapshot, long after it started: each time it fails failureThreshold times in a row, the pod leaves its Services' endpoints.`;
      } else {
        const down = notReadyFor(pod, context.now);
        const warming = runningFor !== undefined && runningFor < WARMING_MS;
        severity = warming ? 'info' : down !== undefined && down > DOWN_MS ? 'critical' : 'warning';
        title = `Container ${name} is not ready: readiness probe fails (${summary})`;
        state = `${name} runs${runningFor !== undefined ? ` (for ${age(runningFor)})` : ''} but fails its readiness probe, so the pod ${down !== undefined ? `has not been Ready for ${age(down)} and ` : ''}gets no traffic from its Services.`;
        if (warming) state += ' It started less than 2 minutes ago and may still be warming up.';
      }
      findings.push({
        severity,
        title,
        object: podRef(pod, name),
        evidence: probeEvidence(pf).concat(pod.status?.conditions?.filter((c) => c.type === 'Ready').map((c) => `condition Ready=${c.status}${c.lastTransitionTime ? ` since ${c.lastTransitionTime}` : ''}`) ?? []),
        explanation: `${state} ${reading.meaning}`,
        remediation: [...probeCheckSteps(pf), { description: 'Read the container log: a failing health check usually logs why', command: kubectl.logs(pod, name) }, fixStep(context, pf, reading), { description: 'See every probe failure', command: kubectl.podEvents(pod) }],
        confidence: reading.reading === 'unknown' ? 0.75 : 0.85,
        cause: pf.cause,
      });
    }
    return findings;
  },
};

export default rule;
