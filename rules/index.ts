import type { Rule } from '../src/model/finding.js';
import crashLoopBackOff from './crash-loop-back-off.js';
import createContainerConfigError from './create-container-config-error.js';
import createContainerError from './create-container-error.js';
import deadlineExceeded from './deadline-exceeded.js';
import evicted from './evicted.js';
import execFormatError from './exec-format-error.js';
import exitCode0 from './exit-code-0.js';
import exitCode1 from './exit-code-1.js';
import exitCode125 from './exit-code-125.js';
import exitCode126 from './exit-code-126.js';
import exitCode127 from './exit-code-127.js';
import exitCode128 from './exit-code-128.js';
import exitCode134 from './exit-code-134.js';
import exitCode137 from './exit-code-137.js';
import exitCode139 from './exit-code-139.js';
import exitCode143 from './exit-code-143.js';
import exitCode255 from './exit-code-255.js';
import exitCodeApp from './exit-code-app.js';
import exitCodeSignal from './exit-code-signal.js';
import failedCreate from './failed-create.js';
import failedCreatePodSandbox from './failed-create-pod-sandbox.js';
import failedMount from './failed-mount.js';
import forbidden from './forbidden.js';
import frequentRestarts from './frequent-restarts.js';
import imagePullBackOff from './image-pull-back-off.js';
import initContainerFailed from './init-container-failed.js';
import invalidImageName from './invalid-image-name.js';
import jobFailed from './job-failed.js';
import livenessProbeFailed from './liveness-probe-failed.js';
import nodeNotReady from './node-not-ready.js';
import nodePressure from './node-pressure.js';
import nodeUnschedulable from './node-unschedulable.js';
import oomKilled from './oom-killed.js';
import podPending from './pod-pending.js';
import readinessProbeFailed from './readiness-probe-failed.js';
import runContainerError from './run-container-error.js';
import startupProbeFailed from './startup-probe-failed.js';
import stuckTerminating from './stuck-terminating.js';

/** Every rule kdiag runs, sorted by id. A test checks that each file in rules/ is listed here. */
export const rules: readonly Rule[] = [
  crashLoopBackOff,
  createContainerConfigError,
  createContainerError,
  deadlineExceeded,
  evicted,
  execFormatError,
  exitCode0,
  exitCode1,
  exitCode125,
  exitCode126,
  exitCode127,
  exitCode128,
  exitCode134,
  exitCode137,
  exitCode139,
  exitCode143,
  exitCode255,
  exitCodeApp,
  exitCodeSignal,
  failedCreate,
  failedCreatePodSandbox,
  failedMount,
  forbidden,
  frequentRestarts,
  imagePullBackOff,
  initContainerFailed,
  invalidImageName,
  jobFailed,
  livenessProbeFailed,
  nodeNotReady,
  nodePressure,
  nodeUnschedulable,
  oomKilled,
  podPending,
  readinessProbeFailed,
  runContainerError,
  startupProbeFailed,
  stuckTerminating,
];

/** The rule with this id, if any. */
export function ruleById(id: string): Rule | undefined {
  return rules.find((rule) => rule.id === id);
}
