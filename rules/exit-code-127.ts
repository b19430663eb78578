import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { commandEvidence, terminationFindings } from '../src/model/terminations.js';

/** Exit 127: command not found. */
const rule: Rule = {
  id: 'exit-code-127',
  title: 'Container exited with code 127 (command not found)',
  severity: 'critical',
  description:
    'The shell could not find the command: a typo in command or args, a binary that is not in the image (a slim or distroless base, a build stage that did not copy it), or a PATH that does not include it.',
  detection: 'state.terminated or lastState.terminated with exitCode 127; the spec\'s command/args and the log tail ("not found") are evidence.',
  supersedes: ['crash-loop-back-off'],
  remediation: [
    { description: 'Check command and args in the pod spec for typos and absolute paths' },
    { description: 'Check that the binary exists in the image (a distroless or slim base has no shell and few tools)' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 127,
      (c) => ({
        explanation: `${c.view.status.name}'s command (or something its entrypoint script calls) was not found (exit 127): a typo in command/args, a binary missing from image ${c.view.spec?.image ?? '?'}, or a PATH that does not contain it. The previous log usually shows "sh: X: not found".`,
        evidence: [commandEvidence(c.view), c.view.spec?.image ? `image=${c.view.spec.image}` : undefined].filter((line): line is string => !!line),
        remediation: [
          { description: 'Check the command and args the container runs', command: kubectl.describePod(c.pod) },
          { description: 'Look for the binary inside the image (runs the image locally, not on the cluster)', command: `docker run --rm --entrypoint sh ${c.view.spec?.image ?? 'IMAGE'} -c 'command -v ${c.view.spec?.command?.[0] ?? 'BINARY'}'` },
        ],
        confidence: 0.85,
      }),
    ),
};

export default rule;
