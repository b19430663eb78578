import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { terminationFindings } from '../src/model/terminations.js';

/** Exit 125: the runtime failed before the container's command ran. */
const rule: Rule = {
  id: 'exit-code-125',
  title: 'Container exited with code 125 (the runtime could not run it)',
  severity: 'critical',
  description:
    'Exit 125 comes from the container runtime, not from the application: it could not run the container at all (an invalid runtime option, a missing mount source, a runtime or shim error). The command in the image never started.',
  detection: 'state.terminated or lastState.terminated with exitCode 125; the termination message and the pod\'s Failed events give the runtime\'s reason.',
  supersedes: ['crash-loop-back-off'],
  remediation: [
    { description: 'Read the runtime\'s error in the termination message and the pod events', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Check the container runtime on the node (containerd / CRI-O logs)' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 125,
      (c) => ({
        explanation: `Exit 125 is reported by the container runtime when it fails to run the container itself; ${c.view.status.name}'s own command never ran, so its application log is usually empty. The runtime's message (termination message, Failed events, containerd or CRI-O logs on node ${c.pod.spec?.nodeName ?? '?'}) names the problem.`,
        remediation: [
          { description: 'Read the runtime error in the events and termination message', command: kubectl.describePod(c.pod) },
          ...(c.pod.spec?.nodeName ? [{ description: 'Check the node and its container runtime', command: kubectl.describeNode(c.pod.spec.nodeName) }] : []),
        ],
        confidence: 0.75,
      }),
    ),
};

export default rule;
