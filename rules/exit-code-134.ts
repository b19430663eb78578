import type { Rule } from '../src/model/finding.js';
import { terminationFindings } from '../src/model/terminations.js';

/** Exit 134 = 128 + 6: SIGABRT, the process aborted itself. */
const rule: Rule = {
  id: 'exit-code-134',
  title: 'Container exited with code 134 (SIGABRT: the process aborted)',
  severity: 'critical',
  description:
    'Exit 134 is 128+6: the process received SIGABRT, almost always from itself calling abort(): a failed assertion, a fatal runtime error (glibc "double free or corruption", C++ std::terminate, a JVM or Node.js fatal error such as "JavaScript heap out of memory").',
  detection: 'state.terminated or lastState.terminated with exitCode 134; the log tail shows the assertion or fatal error.',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [
    { description: 'Read the last lines of the previous log: the abort message names the failed assertion or fatal error' },
    { description: 'For "JavaScript heap out of memory", raise --max-old-space-size together with the memory limit' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 134,
      (c) => {
        const heap = c.logTail?.some((line) => /heap out of memory|Allocation failed/i.test(line));
        return {
          explanation: heap
            ? `${c.view.status.name} aborted (SIGABRT, 128+6) because the Node.js heap ran out ("JavaScript heap out of memory"): the V8 heap limit was reached before the container's memory limit.`
            : `${c.view.status.name} aborted itself (SIGABRT, 128+6): a failed assertion or a fatal runtime error. The abort message is in the last lines of the previous log.`,
          remediation: heap
            ? [{ description: 'Raise the V8 heap limit to fit the memory limit (e.g. NODE_OPTIONS=--max-old-space-size=<75% of the limit in MiB>), or find the leak' }]
            : [{ description: 'Find the assertion or fatal error in the log tail and fix it; enable core dumps if the log is silent' }],
          ...(heap ? { cause: 'js-heap-exhausted' } : {}),
          confidence: 0.85,
        };
      },
    ),
};

export default rule;
