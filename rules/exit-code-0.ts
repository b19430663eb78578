import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { commandEvidence, terminationFindings } from '../src/model/terminations.js';

/** Exit 0 under restartPolicy Always: the program finished, and the kubelet starts it again and again. */
const rule: Rule = {
  id: 'exit-code-0',
  title: 'Container exits 0 but its restart policy restarts it',
  severity: 'critical',
  description:
    'The main process exits successfully, but the pod has restartPolicy Always (every Deployment, StatefulSet and DaemonSet pod), so the kubelet restarts it and backs off: CrashLoopBackOff with last state Completed. The program is a one-shot task, or it forks into the background and its foreground process returns.',
  detection: 'A main container (or native sidecar) with restartCount > 0 whose last termination has exitCode 0 in a pod with restartPolicy Always. Finished Job pods and init containers that exit 0 are never reported.',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [
    { description: 'Make the container\'s main process stay in the foreground (e.g. nginx -g "daemon off;", no trailing &, exec the server from the entrypoint script)' },
    { description: 'If the work is meant to finish, run it as a Job or CronJob instead of a Deployment' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 0,
      (c) => ({
        title: `Container ${c.view.status.name} exits 0 and is restarted (restartPolicy Always)`,
        explanation: `${c.view.status.name} exited successfully (code 0${c.terminated.reason ? `, reason ${c.terminated.reason}` : ''}), but pod restartPolicy is Always, so the kubelet restarts it and backs off between restarts. Either the program is a one-shot task that belongs in a Job, or its entrypoint returns while the real work runs in the background.`,
        evidence: [`spec.restartPolicy=${c.pod.spec?.restartPolicy ?? 'Always'}`, commandEvidence(c.view)].filter((line): line is string => !!line),
        remediation: [
          { description: 'Check the command: the process must not daemonize or return', command: kubectl.describePod(c.pod) },
          { description: 'If the work is meant to finish, run it as a Job (or CronJob) instead', command: `kubectl create job ${c.view.status.name}-once -n ${c.pod.metadata.namespace} --image=${c.view.spec?.image ?? 'IMAGE'} --dry-run=client -o yaml` },
        ],
        confidence: 0.85,
      }),
    ),
};

export default rule;
