import type { Rule } from '../src/model/finding.js';
import { eventEvidence, eventsWithReason, isAboutContainer, kubectl, memoryLimit } from '../src/model/pod.js';
import { terminationFindings } from '../src/model/terminations.js';

/**
 * Exit 137 = 128 + 9, SIGKILL, when the reason is not OOMKilled (oom-killed owns that): the kubelet
 * killed the container after failed liveness probes or an expired grace period, or something ran kill -9.
 */
const rule: Rule = {
  id: 'exit-code-137',
  title: 'Container killed with SIGKILL (exit 137), not by the OOM killer',
  severity: 'critical',
  description:
    'Exit 137 is 128+9: the process was killed with SIGKILL, which it cannot catch. When the termination reason is OOMKilled the kernel did it for memory (see oom-killed). Otherwise it was the kubelet, after a failed liveness probe or when the termination grace period ran out, or kill -9 from inside or outside the container.',
  detection:
    'exitCode 137 with a reason other than OOMKilled. The pod\'s Unhealthy ("Liveness probe failed") and Killing events and the container\'s livenessProbe settings tell a probe kill; ExceededGracePeriod or a deletion tells a grace-period kill.',
  supersedes: ['crash-loop-back-off', 'liveness-probe-failed', 'frequent-restarts'],
  remediation: [
    { description: 'Read the Unhealthy and Killing events: a liveness probe failure shows there' },
    { description: 'If the probe kills a slow but healthy container, give it a startupProbe or a larger timeoutSeconds / failureThreshold' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 137,
      (c) => {
        const name = c.view.status.name;
        const events = eventsWithReason(context.index, c.pod, 'Unhealthy', 'Killing', 'ExceededGracePeriod').filter((e) => isAboutContainer(e, name));
        const liveness = events.filter((e) => /liveness probe/i.test(e.message ?? '') || (e.reason === 'Killing' && /liveness/i.test(e.message ?? '')));
        const grace = events.filter((e) => e.reason === 'ExceededGracePeriod');
        const probe = c.view.spec?.livenessProbe;
        const evidence = [...liveness, ...grace].map(eventEvidence);
        if (probe) {
          const handler = probe.httpGet ? `httpGet ${probe.httpGet.path ?? '/'}:${probe.httpGet.port ?? '?'}` : probe.tcpSocket ? `tcpSocket :${probe.tcpSocket.port ?? '?'}` : probe.exec ? `exec ${(probe.exec.command ?? []).join(' ')}` : probe.grpc ? `grpc :${probe.grpc.port ?? '?'}` : 'probe';
          evidence.push(`livenessProbe: ${handler}, initialDelaySeconds=${probe.initialDelaySeconds ?? 0}, periodSeconds=${probe.periodSeconds ?? 10}, timeoutSeconds=${probe.timeoutSeconds ?? 1}, failureThreshold=${probe.failureThreshold ?? 3}`);
        }
        if (liveness.length > 0) {
          return {
            title: `Container ${name} is killed by its liveness probe (exit 137)`,
            explanation: `The kubelet killed ${name} after its liveness probe failed (exit 137 = SIGKILL; the reason is not OOMKilled, so memory was not the cause). Either the application is really hung, or the probe is too strict for it: a wrong path or port, a timeout shorter than the response time, or no startupProbe for a slow start.`,
            evidence,
            remediation: [
              { description: 'See the probe failures and what the endpoint answered', command: kubectl.podEvents(c.pod) },
              { description: 'Relax the probe or add a startupProbe for slow starts (edit the workload)', command: `kubectl edit ${kubectl.target(c.pod, context.index)} -n ${c.pod.metadata.namespace}` },
            ],
            cause: 'liveness-probe',
            confidence: 0.95,
          };
        }
        if (grace.length > 0) {
          return {
            title: `Container ${name} was killed after its termination grace period (exit 137)`,
            explanation: `${name} did not stop within terminationGracePeriodSeconds (${c.pod.spec?.terminationGracePeriodSeconds ?? 30}s) after SIGTERM, so the kubelet sent SIGKILL. The application does not handle SIGTERM, or its shutdown takes longer than the grace period.`,
            evidence,
            remediation: [
              { description: 'Handle SIGTERM in the application (exec the server from the entrypoint so it receives the signal), or raise terminationGracePeriodSeconds' },
            ],
            cause: 'grace-period',
            confidence: 0.9,
          };
        }
        const limit = memoryLimit(c.view);
        return {
          title: `Container ${name} was killed with SIGKILL (exit 137, not OOMKilled)`,
          explanation: `${name} received SIGKILL (128+9) but the runtime did not report OOMKilled and no liveness or grace-period kill is recorded in the events kdiag read. Possible causes: a liveness-probe kill whose events have expired, kill -9 from a process in the container or on the node, or a child process killed for memory while the main process survived${limit ? ` (memory limit ${limit})` : ''}.`,
          evidence,
          remediation: [
            { description: 'Check the pod events and the node\'s kernel log for OOM or kill messages', command: kubectl.podEvents(c.pod) },
            ...(probe ? [{ description: 'Review the livenessProbe settings shown in the evidence' }] : []),
          ],
          cause: 'sigkill',
          confidence: 0.6,
        };
      },
    ),
};

export default rule;
