import type { Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import type { ContainerView } from '../src/model/pod.js';
import { containers, crashSeverity, lastTermination, podRef, previousLogs, stateEvidence } from '../src/model/pod.js';
import { isSettled } from '../src/model/terminations.js';
import { containerLabel, editSpecStep, execPath, failedEvents, repeatEvidence, templatePatch } from '../src/model/container-start.js';
import { MAX_TEXT, firstLine, shellQuote } from '../src/model/text.js';

const EXEC_FORMAT = /exec format error/i;
// What runc itself prints when execve fails: "exec /app: exec format error" (runc 1.1+), or
// "standard_init_linux.go:228: exec user process caused: exec format error" (older runc, Docker).
const RUNC_LINE = /^\s*(?:exec \S+: exec format error|\S*standard_init_linux\.go:\d+: exec user process caused:? "?exec format error)/i;
const WAITING = new Set(['RunContainerError', 'CreateContainerError', 'CrashLoopBackOff']);

/** Where the exec format error was seen, with how sure that source makes the diagnosis. */
interface Sighting {
  evidence: string[];
  confidence: number;
  logTail?: string[];
  /** The path the message names, when it names one. */
  path?: string;
}

/** The exec format errors a container shows: its termination, waiting message, Failed events, previous log. */
function sightings(context: RuleContext, view: ContainerView): Sighting[] {
  const found: Sighting[] = [];
  const { status, pod } = view;
  const termination = lastTermination(status);
  const terminated = termination?.terminated;
  const exit = termination && terminated ? `${termination.field}.exitCode=${terminated.exitCode}${terminated.reason ? ` (reason ${terminated.reason})` : ''}` : undefined;
  const path = (text: string | undefined): { path?: string } => {
    const p = execPath(text);
    return p ? { path: p } : {};
  };
  // The runtime repeats one message in the termination, the waiting state and the Failed event:
  // quote it once, then say where else it appears.
  let quoted: string | undefined;
  if (termination && terminated?.message && EXEC_FORMAT.test(terminated.message)) {
    quoted = terminated.message;
    found.push({ evidence: [exit!, `${termination.field}.message: ${firstLine(terminated.message, MAX_TEXT)}`], confidence: 0.95, ...path(terminated.message) });
  }
  const waiting = status.state?.waiting;
  if (waiting?.reason && WAITING.has(waiting.reason) && waiting.message && EXEC_FORMAT.test(waiting.message)) {
    const same = waiting.message === quoted;
    quoted ??= waiting.message;
    found.push({ evidence: [`state.waiting.message (${waiting.reason}): ${same ? 'the same message' : firstLine(waiting.message, MAX_TEXT)}`], confidence: 0.95, ...path(waiting.message) });
  }
  const events = failedEvents(context.index, pod, status.name, EXEC_FORMAT);
  const latest = events[events.length - 1];
  if (latest) found.push({ evidence: [repeatEvidence(latest, quoted)], confidence: 0.95, ...path(latest.message) });
  // A log line only counts for a container that stopped with a failure: a running program may log
  // another binary's exec format error (a CI runner, a plugin host) without being the wrong build.
  const failed = (terminated && terminated.exitCode !== 0) || waiting?.reason === 'CrashLoopBackOff';
  const tail = failed ? previousLogs(context.index, view) : undefined;
  const line = tail?.find((l) => EXEC_FORMAT.test(l));
  if (tail && line) {
    const logPath = line.match(/exec (\/\S+): exec format error/)?.[1];
    found.push({
      evidence: [`previous log: ${firstLine(line, MAX_TEXT)}`, ...(exit && !terminated?.message ? [exit] : [])],
      confidence: RUNC_LINE.test(line) ? 0.95 : 0.7,
      logTail: tail,
      ...(logPath ? { path: logPath } : {}),
    });
  }
  return found;
}

/** "an amd64", "an arm64", "a s390x" */
function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/** The owner of a pod as kubectl names it, for "other pods of deployment/web". */
function ownerKey(context: RuleContext, pod: Pod): string | undefined {
  const owner = context.index.ownerOf(pod);
  return owner ? `${pod.metadata.namespace ?? ''}/${owner.kind}/${owner.name}` : undefined;
}

/**
 * "exec format error": the kernel refused to run the container's binary because it is built for
 * another CPU architecture (an arm64 image on amd64 nodes, or the reverse), or is not a binary at all
 * (a script without a #! line). containerd reports it at start (StartError, exit 128); when runc only
 * fails at the final exec, it is the container's own output and the exit code is 1 or 255.
 */
const rule: Rule = {
  id: 'exec-format-error',
  title: 'Image built for another CPU architecture (exec format error)',
  severity: 'critical',
  description:
    'The kernel refuses to execute the container\'s binary: "exec format error". Almost always the image was built for another CPU architecture than the node\'s (an image built on an Apple-silicon laptop, arm64, running on amd64 nodes, or an amd64-only image on Graviton / Ampere nodes). Less often the entrypoint is a script without a #! line. Every restart fails the same way on that node.',
  detection:
    '"exec format error" in the termination message (reason StartError, exit 128), the waiting message (RunContainerError, CreateContainerError) or a Failed event of a container, or in the previous log tail of a container that stopped with a failure (`exec /usr/local/bin/app: exec format error`, exit 1 or 255). The node\'s architecture (node.status.nodeInfo.architecture), the image, and sibling pods running on nodes of another architecture are evidence.',
  supersedes: ['exit-code-1', 'exit-code-128', 'exit-code-255', 'exit-code-app', 'crash-loop-back-off', 'run-container-error', 'create-container-error', 'init-container-failed', 'pod-pending'],
  remediation: [
    { description: 'Check which platforms the image has', command: 'docker manifest inspect IMAGE' },
    { description: 'Build and push a multi-architecture image', command: 'docker buildx build --platform linux/amd64,linux/arm64 -t IMAGE --push .' },
    { description: 'Or run the pods only on nodes of the image\'s architecture: nodeSelector kubernetes.io/arch=ARCH' },
  ],
  match: (context) => {
    const { snapshot, index } = context;
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      if (isSettled(context, pod) || pod.status?.reason === 'Evicted') continue;
      for (const view of containers(pod)) {
        const seen = sightings(context, view);
        if (seen.length === 0) continue;
        const name = view.status.name;
        const nodeName = pod.spec?.nodeName;
        const node = index.node(nodeName);
        const arch = node?.status?.nodeInfo?.architecture;
        const image = view.spec?.image ?? view.status.image ?? '<image>';

        const evidence = [...new Set(seen.flatMap((s) => s.evidence))];
        evidence.push(...stateEvidence(view).filter((line) => !evidence.some((e) => e.startsWith(line))));
        evidence.push(`image=${image}${view.status.imageID ? ` (${view.status.imageID})` : ''}`);
        if (nodeName && arch) evidence.push(`node ${nodeName}: nodeInfo.architecture=${arch}${node?.status?.nodeInfo?.operatingSystem ? `, operatingSystem=${node.status.nodeInfo.operatingSystem}` : ''}`);
        else if (nodeName) evidence.push(`node ${nodeName} is not in the snapshot: its architecture is unknown`);
        const pinned = pod.spec?.nodeSelector?.['kubernetes.io/arch'];
        evidence.push(pinned ? `spec.nodeSelector kubernetes.io/arch=${pinned}` : 'spec.nodeSelector: no kubernetes.io/arch (the pod may land on any architecture)');

        // Pods of the same workload running the same image on nodes of another architecture show
        // which architecture the image has.
        const key = ownerKey(context, pod);
        const workingArchs = new Map<string, string>();
        if (key) {
          for (const other of snapshot.pods) {
            if (other === pod || ownerKey(context, other) !== key) continue;
            const status = [...(other.status?.initContainerStatuses ?? []), ...(other.status?.containerStatuses ?? [])].find((s) => s.name === name);
            const otherImage = [...(other.spec?.initContainers ?? []), ...(other.spec?.containers ?? [])].find((c) => c.name === name)?.image ?? status?.image;
            const otherArch = index.node(other.spec?.nodeName)?.status?.nodeInfo?.architecture;
            if (status?.state?.running && otherImage === image && otherArch && otherArch !== arch && !workingArchs.has(otherArch)) workingArchs.set(otherArch, `${other.metadata.name} on ${other.spec?.nodeName}`);
          }
        }
        for (const [a, where] of workingArchs) evidence.push(`the same container runs in pod ${where} (${a})`);
        const clusterArchs = [...new Set(snapshot.nodes.map((n) => n.status?.nodeInfo?.architecture).filter((a): a is string => !!a))].sort();
        if (clusterArchs.length) evidence.push(`node architectures in the snapshot: ${clusterArchs.join(', ')}`);
        if (view.init) evidence.push('init container: the pod cannot start until it succeeds');

        // The architecture the image likely has: where the same container runs, else the cluster's only other one.
        const otherArchs = arch ? clusterArchs.filter((a) => a !== arch) : [];
        const target = workingArchs.size === 1 ? [...workingArchs.keys()][0]! : otherArchs.length === 1 ? otherArchs[0]! : undefined;
        const onlyThisArch = !!arch && clusterArchs.length > 0 && otherArchs.length === 0;
        const path = seen.find((s) => s.path)?.path;
        const patch = templatePatch(pod, index, { nodeSelector: { 'kubernetes.io/arch': target ?? '<image-arch>' } });
        const remediation: RemediationStep[] = [
          { description: `List the platforms ${image} is built for (a single-platform image shows one config, a multi-arch one a list of manifests)`, command: `docker manifest inspect ${shellQuote(image)}` },
          { description: `Build and push it for every architecture the nodes have${arch ? ` (this node is ${arch})` : ''}`, command: `docker buildx build --platform ${(clusterArchs.length > 1 ? clusterArchs : ['amd64', 'arm64']).map((a) => `linux/${a}`).join(',')} -t ${shellQuote(image)} --push .` },
          onlyThisArch
            ? { description: `Every node in the snapshot is ${arch}: pinning the pods elsewhere is no option, the image must be rebuilt for ${arch}` }
            : patch
              ? { description: `Or run the pods only on ${target ?? 'the image\'s architecture'} nodes until a multi-arch image exists`, command: patch }
              : editSpecStep(pod, index, `Or add nodeSelector kubernetes.io/arch=${target ?? '<image-arch>'}`),
          { description: 'If the entrypoint is a script, check that its first line is a #! line (a script without one also fails with exec format error)' },
        ];

        const onNode = arch ? ` on this ${arch} node` : '';
        const finding: Finding = {
          severity: crashSeverity(view),
          title: `${containerLabel(view)}: exec format error, the image's binary cannot run${onNode}`,
          object: podRef(pod, name),
          evidence,
          explanation: `The kernel refused to execute ${path ? `"${path}"` : `${name}'s entrypoint`} with "exec format error": the image was built for another CPU architecture than the node's${arch ? ` (${arch})` : ''}${target ? `; the image most likely contains ${target} binaries${workingArchs.size ? ', since the same container runs on ' + article(target) + ' node' : ''}` : ''}. Restarting does not help: every attempt on a node of this architecture fails the same way. Publish a multi-architecture image, or keep the pods on nodes that match the image.`,
          remediation,
          confidence: Math.max(...seen.map((s) => s.confidence)) - (arch ? 0 : 0.1),
        };
        const termination = lastTermination(view.status);
        if (termination && termination.terminated.exitCode !== 0) finding.exitCode = termination.terminated.exitCode;
        const logTail = seen.find((s) => s.logTail)?.logTail;
        if (logTail) finding.logTail = logTail;
        findings.push(finding);
      }
    }
    return findings;
  },
};

export default rule;
