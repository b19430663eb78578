import type { Finding, Rule } from '../src/model/finding.js';
import { isSettled } from '../src/model/terminations.js';
import { containers, crashSeverity, kubectl, memoryLimit, podRef, previousLogs, readLogsStep, stateEvidence } from '../src/model/pod.js';

/** Double a Kubernetes memory quantity for a suggested new limit ("128Mi" -> "256Mi"). */
function doubled(quantity: string | undefined): string {
  const match = quantity?.match(/^(\d+(?:\.\d+)?)([A-Za-z]*)$/);
  if (!match) return '<new limit>';
  const value = Number(match[1]) * 2;
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${match[2]}`;
}

/**
 * The kernel's OOM killer ended the container because it reached its memory limit. Once the
 * container restarts, OOMKilled appears in lastState.terminated, not in state.
 */
const rule: Rule = {
  id: 'oom-killed',
  title: 'Container OOMKilled: it reached its memory limit',
  severity: 'critical',
  description:
    'The kernel\'s OOM killer killed the container (reason OOMKilled, exit 137) because its memory use reached the container\'s memory limit, or the node ran out of memory. Unlike a plain exit 137, the cause is memory: the limit is too low for the workload, or the application leaks.',
  detection: 'reason OOMKilled in state.terminated or lastState.terminated of any container; the memory limit and request, restart count and the crash loop are evidence.',
  supersedes: ['crash-loop-back-off', 'exit-code-137', 'frequent-restarts'],
  remediation: [
    { description: 'Compare the memory the container uses with its limit', command: 'kubectl top pod -n NAMESPACE POD --containers' },
    { description: 'Raise the memory limit if the workload needs it, or fix the leak', command: 'kubectl set resources deployment/NAME -n NAMESPACE -c CONTAINER --limits=memory=NEW' },
    { description: 'For a JVM, Node.js or similar runtime, size its heap below the container limit (-XX:MaxRAMPercentage, --max-old-space-size)' },
  ],
  match: (context) => {
    const { index } = context;
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      if (isSettled(context, pod)) continue;
      for (const view of containers(pod)) {
        const { status } = view;
        const field = status.state?.terminated?.reason === 'OOMKilled' ? 'state.terminated' : status.lastState?.terminated?.reason === 'OOMKilled' ? 'lastState.terminated' : undefined;
        if (!field) continue;
        const terminated = field === 'state.terminated' ? status.state!.terminated! : status.lastState!.terminated!;
        const limit = memoryLimit(view);
        const request = view.spec?.resources?.requests?.memory;
        const logTail = previousLogs(index, view);
        const evidence = [`${field}.reason=OOMKilled`, `${field}.exitCode=${terminated.exitCode}`, ...stateEvidence(view)];
        evidence.push(limit ? `resources.limits.memory=${limit}` : 'no memory limit set: the node itself ran out of memory');
        if (request) evidence.push(`resources.requests.memory=${request}`);
        const name = status.name;
        const target = kubectl.target(pod, index);
        const ns = pod.metadata.namespace;
        const finding: Finding = {
          severity: crashSeverity(view),
          title: limit ? `Container ${name} was OOMKilled (memory limit ${limit})` : `Container ${name} was OOMKilled (no memory limit: node memory ran out)`,
          object: podRef(pod, name),
          evidence,
          explanation: limit
            ? `The kernel killed ${name} because it used all of its ${limit} memory limit (reason OOMKilled, exit ${terminated.exitCode}).${status.state?.running ? ' It is running again, but it will be killed again if its memory keeps growing.' : ' It is killed each time it reaches the limit, so it cannot stay up.'} Either the limit is too low for the workload, or the application leaks memory.`
            : `${name} has no memory limit, so it was OOM-killed because the node ran out of memory. Set a memory request and limit so the scheduler places it on a node with room.`,
          remediation: [
            { description: 'See how much memory the containers use now (needs metrics-server)', command: `kubectl top pod -n ${ns} ${pod.metadata.name} --containers` },
            { description: limit ? `Raise the memory limit if the workload needs more (e.g. double it to ${doubled(limit)})` : 'Set a memory request and limit', command: `kubectl set resources ${target} -n ${ns} -c ${name} --limits=memory=${limit ? doubled(limit) : '<limit>'}` },
            readLogsStep(view),
            { description: 'For a JVM, Node.js or Go service, keep its heap below the limit (-XX:MaxRAMPercentage=75, --max-old-space-size, GOMEMLIMIT)' },
          ],
          confidence: 0.98,
          exitCode: terminated.exitCode,
          signal: terminated.exitCode === 137 ? 'SIGKILL' : undefined,
          cause: limit ? 'memory-limit' : 'node-memory',
        };
        if (finding.signal === undefined) delete finding.signal;
        if (logTail) finding.logTail = logTail;
        findings.push(finding);
      }
    }
    return findings;
  },
};

export default rule;
