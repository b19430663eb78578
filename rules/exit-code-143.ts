import type { Rule } from '../src/model/finding.js';
import { eventEvidence, eventsWithReason, isAboutContainer, kubectl } from '../src/model/pod.js';
import { terminationFindings } from '../src/model/terminations.js';

/** Exit 143 = 128 + 15: SIGTERM, the polite stop the kubelet sends first. */
const rule: Rule = {
  id: 'exit-code-143',
  title: 'Container stopped by SIGTERM (exit 143)',
  severity: 'warning',
  description:
    'Exit 143 is 128+15: the process ended on SIGTERM without handling it. The kubelet sends SIGTERM when it restarts a container after a failed liveness probe, and on deletion, eviction, preemption and rollouts. Outside a deletion it means something keeps stopping the container.',
  detection: 'exitCode 143 on a container of a pod that is not being deleted; Unhealthy and Killing events tell a liveness-probe restart.',
  supersedes: ['crash-loop-back-off', 'liveness-probe-failed', 'frequent-restarts'],
  remediation: [
    { description: 'Read the Killing and Unhealthy events to see who stopped the container' },
    { description: 'Handle SIGTERM in the application so planned stops exit 0 cleanly' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 143,
      (c) => {
        const name = c.view.status.name;
        const events = eventsWithReason(context.index, c.pod, 'Unhealthy', 'Killing').filter((e) => isAboutContainer(e, name));
        const liveness = events.filter((e) => /liveness probe/i.test(e.message ?? ''));
        return liveness.length > 0
          ? {
              title: `Container ${name} is restarted by its liveness probe (exit 143)`,
              explanation: `The kubelet stopped ${name} with SIGTERM after its liveness probe failed; the process exited on the signal (143). The application is hung, or the probe is stricter than the application can answer.`,
              evidence: liveness.map(eventEvidence),
              remediation: [{ description: 'See the probe failures', command: kubectl.podEvents(c.pod) }],
              cause: 'liveness-probe',
              confidence: 0.9,
            }
          : {
              explanation: `${name} ended on SIGTERM (128+15) and was restarted. Something stopped it: a liveness-probe restart whose events expired, a process in the container sending TERM, or a supervisor. Applications that handle SIGTERM exit 0 instead.`,
              evidence: events.map(eventEvidence),
              remediation: [{ description: 'Check the events for who stopped the container', command: kubectl.podEvents(c.pod) }],
              confidence: 0.6,
            };
      },
    ),
};

export default rule;
