import type { Rule } from '../src/model/finding.js';
import { kubectl } from '../src/model/pod.js';
import { commandEvidence, terminationFindings } from '../src/model/terminations.js';

/**
 * Exit 128: not success. containerd reports a process it could not start as reason StartError with
 * exit code 128, and the message says why (exec permission denied, no such file or directory).
 */
const rule: Rule = {
  id: 'exit-code-128',
  title: 'Container exited with code 128 (the process could not start)',
  severity: 'critical',
  description:
    'Exit 128 is not a successful termination. It is "invalid argument to exit", and in Kubernetes it is almost always reason StartError: the runtime could not start the container\'s process (the entrypoint does not exist or is not executable, a bad working directory, a failed mount).',
  detection: 'state.terminated or lastState.terminated with exitCode 128 (usually reason StartError); the termination message carries the runtime\'s error.',
  supersedes: ['crash-loop-back-off'],
  remediation: [
    { description: 'Read the runtime error in the termination message (kubectl describe pod, "Last State")', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Fix the entrypoint path or its permissions in the image, or the command in the pod spec' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 128,
      (c) => {
        const message = c.terminated.message ?? '';
        const cause = /no such file or directory/i.test(message)
          ? 'entrypoint-not-found'
          : /permission denied/i.test(message)
            ? 'entrypoint-not-executable'
            : /exec format error/i.test(message)
              ? 'wrong-architecture'
              : undefined;
        const why =
          cause === 'entrypoint-not-found'
            ? 'the executable named in command (or the image ENTRYPOINT) does not exist in the image'
            : cause === 'entrypoint-not-executable'
              ? 'the executable exists but may not be executed (missing execute bit or a noexec mount)'
              : cause === 'wrong-architecture'
                ? 'the binary is built for another CPU architecture than the node\'s'
                : 'the runtime could not start the process; its message says why';
        return {
          title: `Container ${c.view.status.name} could not start (exit 128${c.terminated.reason ? `, ${c.terminated.reason}` : ''})`,
          explanation: `Exit 128 here does not mean success: the container's process never ran, because ${why}.`,
          evidence: [commandEvidence(c.view), c.view.spec?.image ? `image=${c.view.spec.image}` : undefined].filter((line): line is string => !!line),
          remediation: [
            { description: 'Read the runtime error ("Last State" message) and the events', command: kubectl.describePod(c.pod) },
            { description: cause === 'entrypoint-not-executable' ? 'Make the entrypoint executable in the image (RUN chmod +x ...)' : 'Fix the command path in the pod spec or the ENTRYPOINT in the image' },
          ],
          confidence: c.terminated.reason === 'StartError' || cause ? 0.9 : 0.7,
          noLogs: c.terminated.reason === 'StartError',
          ...(cause ? { cause } : {}),
        };
      },
    ),
};

export default rule;
