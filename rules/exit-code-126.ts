import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { commandEvidence, terminationFindings } from '../src/model/terminations.js';

/** Exit 126: the command exists but cannot be executed. */
const rule: Rule = {
  id: 'exit-code-126',
  title: 'Container exited with code 126 (command not executable)',
  severity: 'critical',
  description:
    'The shell found the command but could not execute it: the file lacks execute permission, a script has no valid interpreter line (#!), the file is not a program, or the image runs as a user that may not execute it.',
  detection: 'state.terminated or lastState.terminated with exitCode 126; the command and args from the pod spec and the log tail ("Permission denied") are evidence.',
  supersedes: ['crash-loop-back-off'],
  remediation: [
    { description: 'Make the entrypoint executable in the image (RUN chmod +x /path/to/entrypoint) and give scripts a valid #! line' },
    { description: 'Check which user the container runs as (securityContext.runAsUser) and the file\'s owner and mode' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 126,
      (c) => ({
        explanation: `${c.view.status.name}'s command was found but could not be executed (exit 126): usually a missing execute bit (chmod +x in the Dockerfile), a script without a valid #! interpreter, or a user that may not execute the file.`,
        evidence: [commandEvidence(c.view), c.view.spec?.image ? `image=${c.view.spec.image}` : undefined].filter((line): line is string => !!line),
        remediation: [
          { description: 'Inspect the command and the securityContext the container runs with', command: kubectl.describePod(c.pod) },
          { description: 'Check the file mode inside the image (runs the image locally, not on the cluster)', command: `docker run --rm --entrypoint ls ${c.view.spec?.image ?? 'IMAGE'} -l ${c.view.spec?.command?.[0] ?? '/path/to/entrypoint'}` },
        ],
        confidence: 0.85,
      }),
    ),
};

export default rule;
