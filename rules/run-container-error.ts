import type { Finding, Rule } from '../src/model/finding.js';
import { kubectl, podRef, stateEvidence } from '../src/model/pod.js';
import { waitingContainers } from '../src/model/terminations.js';
import { classifyStartError, containerLabel, failedEvents, imageEvidence, repeatEvidence, startErrorSteps, startErrorWhat, startErrorWhy } from '../src/model/container-start.js';
import { MAX_TEXT, firstLine } from '../src/model/text.js';

/**
 * RunContainerError: the container was created but its process could not be started. containerd
 * reports the attempt as a termination with reason StartError and exit code 128, so the same problem
 * also shows as lastState.terminated: one diagnosis, not two.
 */
const rule: Rule = {
  id: 'run-container-error',
  title: 'Container process cannot be started (RunContainerError)',
  severity: 'critical',
  description:
    'The runtime created the container but could not start its process: the entrypoint does not exist in the image (or its #! interpreter does not), it is not executable, the command is empty, the binary is built for another CPU architecture, or a bind mount cannot be made. The process never runs, so there is no log; the runtime\'s message is the only account.',
  detection:
    'state.waiting.reason=RunContainerError on a container or init container. The waiting message, lastState.terminated (reason StartError, exit code 128) and the kubelet\'s Failed events carry runc\'s message: `exec: "/app/x": permission denied`, `stat /app/x: no such file or directory`, `exec: "": executable file not found in $PATH`, `exec format error`, `error mounting ... to rootfs`.',
  supersedes: ['exit-code-128', 'crash-loop-back-off', 'init-container-failed', 'pod-pending'],
  remediation: [
    { description: 'Read the runtime\'s message (State / Last State in describe)', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Not found: fix the command path, or the image\'s ENTRYPOINT / COPY (a script also needs its #! interpreter in the image)' },
    { description: 'Permission denied: make the entrypoint executable in the image (chmod +x)' },
    { description: 'Empty command: give the container a command, or the image an ENTRYPOINT / CMD' },
  ],
  match: (context) => {
    const { index } = context;
    const findings: Finding[] = [];
    for (const { pod, view, waiting } of waitingContainers(context, 'RunContainerError')) {
      const name = view.status.name;
      const last = view.status.lastState?.terminated;
      const events = failedEvents(index, pod, name, /^Error: /);
      const latest = events[events.length - 1];
      const message = waiting.message || last?.message || latest?.message || '';
      const cause = classifyStartError(message) ?? classifyStartError(last?.message) ?? classifyStartError(latest?.message);

      const evidence = [...stateEvidence(view)];
      if (waiting.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message, MAX_TEXT)}`);
      if (last) {
        evidence.push(`lastState.terminated.exitCode=${last.exitCode}${last.reason ? ` (reason ${last.reason})` : ''}`);
        if (last.message && last.message !== waiting.message) evidence.push(`lastState.terminated.message: ${firstLine(last.message, MAX_TEXT)}`);
      }
      if (latest) evidence.push(repeatEvidence(latest, waiting.message));
      evidence.push(...imageEvidence(view, cause !== 'volume-mount'));
      if (view.init) evidence.push('init container: the pod cannot start until it succeeds');

      const finding: Finding = {
        severity: 'critical',
        title: `${containerLabel(view)} cannot start its process (RunContainerError)${cause ? `: ${startErrorWhat(cause)}` : ''}`,
        object: podRef(pod, name),
        evidence,
        explanation: `The runtime created ${name} but could not start its process, because ${startErrorWhy(cause, message, pod)}.${last?.reason === 'StartError' ? ` The runtime records the attempt as reason StartError with exit code ${last.exitCode}: it is this failure, not an exit of the program.` : ''} The process never ran, so there is no log to read.`,
        remediation: [...startErrorSteps(cause, view, index, message), ...(cause ? [{ description: 'Read the runtime\'s message and the events', command: kubectl.describePod(pod) }] : [])],
        confidence: cause ? 0.9 : 0.7,
        cause: cause ?? 'other',
      };
      if (last?.exitCode !== undefined) finding.exitCode = last.exitCode;
      findings.push(finding);
    }
    return findings;
  },
};

export default rule;
