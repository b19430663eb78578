import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { terminationFindings } from '../src/model/terminations.js';

const NAMED = new Set([134, 137, 139, 143, 255]);

/** Exit 129-254 other than the codes with a rule of their own: 128+N, killed by signal N. */
const rule: Rule = {
  id: 'exit-code-signal',
  title: 'Container killed by a signal (exit 128+N)',
  severity: 'critical',
  description:
    'An exit code from 129 to 254 is 128+N: the process was ended by signal N (130 SIGINT, 131 SIGQUIT, 132 SIGILL, 135 SIGBUS, 136 SIGFPE, 141 SIGPIPE, ...). Codes above 192 cannot be signals on Linux and are the program\'s own exit value. 134, 137, 139 and 143 have rules of their own.',
  detection: 'exitCode 129-254 except 134, 137, 139 and 143, decoded into the signal\'s number and name.',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [{ description: 'Read the previous log and find who sent the signal, or which fault raised it' }],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode > 128 && c.terminated.exitCode < 255 && !NAMED.has(c.terminated.exitCode),
      (c) => ({
        title: c.info.signal
          ? `Container ${c.view.status.name} was killed by ${c.info.signal} (exit ${c.terminated.exitCode} = 128+${c.info.signalNumber})`
          : `Container ${c.view.status.name} exited with code ${c.terminated.exitCode}`,
        explanation: `${c.view.status.name}: ${c.info.meaning}`,
        remediation: [{ description: 'Check the events for who stopped the container', command: kubectl.podEvents(c.pod) }],
        confidence: c.info.signal ? 0.8 : 0.6,
      }),
    ),
};

export default rule;
