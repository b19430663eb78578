import type { Rule } from '../src/model/finding.js';
import type { Pod } from '../src/model/k8s.js';
import { kubectl } from '../src/model/pod.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { terminationFindings } from '../src/model/terminations.js';

function rollback(pod: Pod, index: SnapshotIndex) {
  const undo = kubectl.rolloutUndo(pod, index);
  return undo ? [{ description: 'If a new image or dependency brought the crash, roll back while it is investigated', command: undo }] : [];
}

/** Exit 139 = 128 + 11: SIGSEGV. */
const rule: Rule = {
  id: 'exit-code-139',
  title: 'Container exited with code 139 (SIGSEGV: segmentation fault)',
  severity: 'critical',
  description:
    'Exit 139 is 128+11: the process was killed by SIGSEGV after touching memory it does not own. The bug is in native code: the program itself, a native library or extension, or a binary linked against another libc than the image has (glibc vs musl on Alpine).',
  detection: 'state.terminated or lastState.terminated with exitCode 139; the log tail is evidence.',
  supersedes: ['crash-loop-back-off', 'frequent-restarts'],
  remediation: [
    { description: 'Read the previous log for the last action before the crash' },
    { description: 'Check native dependencies against the image\'s libc and CPU architecture; reproduce with core dumps enabled' },
  ],
  match: (context) =>
    terminationFindings(
      context,
      (c) => c.terminated.exitCode === 139,
      (c) => ({
        explanation: `${c.view.status.name} was killed by a segmentation fault (SIGSEGV, 128+11): native code accessed invalid memory. Suspects: a native library or extension, a binary built for another libc than image ${c.view.spec?.image ?? '?'} has (glibc vs musl), or a recent dependency upgrade.`,
        remediation: rollback(c.pod, context.index),
        confidence: 0.85,
      }),
    ),
};

export default rule;
