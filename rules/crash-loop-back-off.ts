import type { Finding, Rule } from '../src/model/finding.js';
import { containers, eventEvidence, eventsWithReason, isAboutContainer, kubectl, podRef, previousLogs, readLogsStep, stateEvidence } from '../src/model/pod.js';
import { firstLine } from '../src/model/text.js';

/**
 * CrashLoopBackOff is a symptom: the kubelet waits longer and longer between restarts of a container
 * that keeps stopping. The exit-code and OOM rules name the cause and fold this finding into theirs;
 * it stands on its own only when the last termination is unknown.
 */
const rule: Rule = {
  id: 'crash-loop-back-off',
  title: 'Container in CrashLoopBackOff',
  severity: 'critical',
  description:
    'The container keeps stopping and the kubelet restarts it with a growing back-off (10s doubling to 5 minutes). It is a symptom: the last termination\'s exit code and reason, the events and the previous log say why it stops.',
  detection: 'state.waiting.reason=CrashLoopBackOff on a container or init container, with the waiting message, restartCount and BackOff events.',
  remediation: [
    { description: 'Read the log of the crashed container', command: 'kubectl logs -n NAMESPACE POD -c CONTAINER --previous' },
    { description: 'Read the last termination state and the events', command: 'kubectl describe pod -n NAMESPACE POD' },
  ],
  match: ({ index }) => {
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      for (const view of containers(pod)) {
        const waiting = view.status.state?.waiting;
        if (waiting?.reason !== 'CrashLoopBackOff') continue;
        const name = view.status.name;
        const backoffs = eventsWithReason(index, pod, 'BackOff').filter((e) => isAboutContainer(e, name) && /restarting failed container/i.test(e.message ?? ''));
        const evidence = [...stateEvidence(view)];
        if (waiting.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message)}`);
        evidence.push(...backoffs.slice(-1).map(eventEvidence));
        const logTail = previousLogs(index, view);
        const finding: Finding = {
          title: `${view.init ? 'Init container' : 'Container'} ${name} is in CrashLoopBackOff (${view.status.restartCount ?? 0} restarts)`,
          object: podRef(pod, name),
          evidence,
          explanation: `${name} keeps stopping and the kubelet restarts it with a growing delay. Kubernetes did not record why it stopped (no last termination state); the previous log and the events are the places to look.`,
          remediation: [readLogsStep(view), { description: 'Read the last state and the events', command: kubectl.describePod(pod) }],
          confidence: 0.7,
        };
        if (logTail) finding.logTail = logTail;
        findings.push(finding);
      }
    }
    return findings;
  },
};

export default rule;
