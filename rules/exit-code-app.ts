import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { commandEvidence, terminationFindings } from '../src/model/terminations.js';

/** Exit 2-124: a value the application chose. */
const rule: Rule = {
  id: 'exit-code-app',
  title: 'Container exited with an application-defined code (2-124)',
  severity: 'critical',
  description:
    'Exit codes 2 to 124 have no system-wide meaning: the program chose the value (2 is often a command-line usage error). The application\'s documentation and its log say what it means.',
  detection: 'state.terminated or lastState.terminated with exitCode 2-124.',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [{ description: 'Read the previous log and look the code up in the application\'s documentation' }],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode >= 2 && c.terminated.exitCode <= 124,
      (c) => ({
        explanation: `${c.view.status.name} exited with ${c.terminated.exitCode}, a value its own code chose${c.terminated.exitCode === 2 ? ' (2 is the usual code for a command-line usage error: check command and args)' : ''}. The previous log and the application's documentation say what it means.`,
        evidence: [commandEvidence(c.view)].filter((line): line is string => !!line),
        remediation: [{ description: 'Check the command, args and configuration', command: kubectl.describePod(c.pod) }],
        confidence: 0.7,
      }),
    ),
};

export default rule;
