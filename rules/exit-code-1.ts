import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { commandEvidence, terminationFindings } from '../src/model/terminations.js';

/** Exit 1: the application itself gave up. */
const rule: Rule = {
  id: 'exit-code-1',
  title: 'Container exited with code 1 (application error)',
  severity: 'critical',
  description:
    'The main process exited with status 1: a general application error such as an unhandled exception, a failed start-up check or bad configuration. It is not a segmentation fault (that is 139) and not an image or runtime problem.',
  detection: 'state.terminated or lastState.terminated with exitCode 1 on any container; severity critical while the container cannot stay up, warning once it runs again.',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [
    { description: 'Read the log of the crashed container: the application prints why it exits', command: 'kubectl logs -n NAMESPACE POD -c CONTAINER --previous' },
    { description: 'Compare configuration the app reads at start-up (env, ConfigMaps, Secrets, mounted files) with what it expects' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 1,
      (c) => ({
        explanation: `${c.view.status.name} exited with status 1, a general application error: the program decided to stop, usually after an unhandled exception or a failed start-up check (bad configuration, an unreachable dependency, a missing file). The previous log says which.`,
        evidence: [commandEvidence(c.view)].filter((line): line is string => !!line),
        remediation: [
          { description: 'Check the configuration the container starts with: env, mounted ConfigMaps and Secrets', command: kubectl.describePod(c.pod) },
        ],
        confidence: c.logTail ? 0.9 : 0.8,
      }),
    ),
};

export default rule;
