import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { terminationFindings } from '../src/model/terminations.js';

/** Exit 255: exit(-1) in the program, or a runtime failure. */
const rule: Rule = {
  id: 'exit-code-255',
  title: 'Container exited with code 255 (exit(-1) or runtime failure)',
  severity: 'critical',
  description:
    'Exit 255 usually means the program called exit(-1) (or exit(255)) on a fatal error, which many languages, scripts and tools do; exit values wrap modulo 256. Less often the container runtime failed. It is not a signal and does not by itself mean "out of range".',
  detection: 'state.terminated or lastState.terminated with exitCode 255 on a pod that is not a finished Job (a sidecar exiting 255 after its Job completed is not reported).',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [
    { description: 'Read the previous log: the fatal error is printed before exit(-1)' },
    { description: 'If the log is empty, check the events and the node\'s container runtime' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 255,
      (c) => ({
        explanation: `${c.view.status.name} exited with 255: the program called exit(-1) on a fatal error (exit values wrap modulo 256), or the runtime failed. The last lines of the previous log normally say which error.`,
        remediation: [{ description: 'If the log is empty, read the events for a runtime error', command: kubectl.describePod(c.pod) }],
        confidence: c.logTail ? 0.8 : 0.65,
      }),
    ),
};

export default rule;
