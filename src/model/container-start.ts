import type { KubeEvent, Pod, Volume } from './k8s.js';
import type { RemediationStep } from './finding.js';
import type { ContainerView } from './pod.js';
import { eventsWithReason, isAboutContainer, kubectl, nsFlag } from './pod.js';
import type { SnapshotIndex } from './snapshot-index.js';
import { controllerOf, eventCount } from './snapshot-index.js';
import { MAX_TEXT, firstLine, shellQuote } from './text.js';

/**
 * Why the runtime could not start a container's process, as runc's message says: the executable is
 * missing, not executable, not named at all, built for another CPU, or a bind mount cannot be made.
 */
export type StartErrorCause = 'entrypoint-not-found' | 'entrypoint-not-executable' | 'empty-command' | 'wrong-architecture' | 'volume-mount';

// runc's words for "starting the container's process failed" (runc 1.1+, runc 1.0 / Docker era, CRI-O's
// wrapper). Only behind these do exec errors name the container's entrypoint: the same "executable file
// not found" from containerd's own helpers (apparmor_parser) is about the node.
const PROCESS_START = /unable to start container process|starting container process caused|exec user process caused|container create failed|error during container init/i;
const MOUNT = /error mounting \\?"[^"\\]*\\?" to rootfs|mounting \\?"[^"\\]*\\?" to rootfs|Are you trying to mount a directory onto a file|failed to mkdir "[^"]*"|is mounted on "[^"]*" but it is not a (?:shared|shared or slave) mount/i;

/** The cause a runtime start/create error stands for, or undefined when the message does not say. */
export function classifyStartError(message: string | undefined): StartErrorCause | undefined {
  const text = message ?? '';
  if (/exec format error/i.test(text)) return 'wrong-architecture';
  if (/no command specified|exec: "": executable file not found|args must not be empty/i.test(text)) return 'empty-command';
  if (MOUNT.test(text)) return 'volume-mount';
  if (!PROCESS_START.test(text)) return undefined;
  if (/exec(?::)? \\?"[^"\\]*\\?": (?:stat [^:]+: )?no such file or directory|executable file not found in \$PATH|exec [^\s:]+: no such file or directory/i.test(text)) return 'entrypoint-not-found';
  if (/exec(?::)? \\?"[^"\\]*\\?": permission denied|exec [^\s:]+: permission denied/i.test(text)) return 'entrypoint-not-executable';
  return undefined;
}

/** A few words for a start-error cause, for titles. */
export function startErrorWhat(cause: StartErrorCause): string {
  return {
    'entrypoint-not-found': 'entrypoint not found',
    'entrypoint-not-executable': 'entrypoint not executable',
    'empty-command': 'no command to run',
    'wrong-architecture': 'binary built for another CPU architecture',
    'volume-mount': 'a volume mount failed',
  }[cause];
}

/** What a mount error names: the host source, the target in the container, and the pod volume behind a subPath. */
export interface MountInfo {
  source?: string;
  target?: string;
  /** The pod volume a subPath source belongs to (kubelet's volume-subpaths/VOLUME/CONTAINER/INDEX). */
  volume?: Volume;
}

/** Read a mount error: `failed to mkdir "/x"`, `error mounting "SRC" to rootfs at "DST"`, `path "/x" is mounted on ...`. */
export function mountInfo(message: string | undefined, pod?: Pod): MountInfo {
  const text = message ?? '';
  const info: MountInfo = {};
  const source = text.match(/failed to mkdir "([^"]+)"/)?.[1] ?? text.match(/mounting \\?"([^"\\]+)\\?" to rootfs/)?.[1] ?? text.match(/path "([^"]+)" is mounted on/)?.[1];
  if (source) info.source = source;
  // runc 1.1+: `to rootfs at "DST"`; older runc: `to rootfs "ROOTFS" at "DST"`.
  const target = text.match(/to rootfs \\?"[^"\\]*\\?" at \\?"([^"\\]+)\\?"/)?.[1] ?? text.match(/to rootfs (?:at )?\\?"([^"\\]+)\\?"/)?.[1];
  if (target) info.target = target;
  const volumeName = source?.match(/\/volume-subpaths\/([^/]+)\//)?.[1];
  const volume = volumeName ? pod?.spec?.volumes?.find((v) => v.name === volumeName) : undefined;
  if (volume) info.volume = volume;
  return info;
}

/** `volume config (configmap pricing-config)` */
function volumeText(volume: Volume): string {
  if (volume.configMap) return `volume ${volume.name} (configmap ${volume.configMap.name ?? '?'})`;
  if (volume.secret) return `volume ${volume.name} (secret ${volume.secret.secretName ?? '?'})`;
  if (volume.persistentVolumeClaim) return `volume ${volume.name} (claim ${volume.persistentVolumeClaim.claimName ?? '?'})`;
  return `volume ${volume.name}`;
}

/** The executable a runc message names: `exec: "/app/server": ...` or `exec /app/server: ...`. */
export function execPath(message: string | undefined): string | undefined {
  const text = message ?? '';
  return text.match(/exec: \\?"([^"\\]*)\\?"/)?.[1] ?? text.match(/\bexec (\/[^\s:]+): /)?.[1];
}

/**
 * Whether runc stat-ed the path and found nothing (`stat /app/server: no such file or directory`). An
 * ENOENT without the stat may also come from execve of a file that is there: a script whose #!
 * interpreter (/bin/bash in an Alpine image) or a binary whose dynamic loader is missing.
 */
export function fileMissing(message: string | undefined): boolean {
  return /stat [^:]+: no such file or directory|executable file not found in \$PATH/i.test(message ?? '');
}

/** Whether runc looked a bare command name up in PATH and found nothing. */
function notOnPath(message: string | undefined): boolean {
  return /executable file not found in \$PATH/i.test(message ?? '') && !/exec: \\?"\//.test(message ?? '');
}

/** The kubelet's Failed events about one container whose message matches, oldest first. */
export function failedEvents(index: SnapshotIndex, pod: Pod, container: string, pattern: RegExp): KubeEvent[] {
  return eventsWithReason(index, pod, 'Failed').filter((event) => isAboutContainer(event, container) && pattern.test(event.message ?? ''));
}

/**
 * Evidence line for the kubelet's latest event about a failure already quoted from the container's
 * state: its count and source, and the message only when it says something the state does not.
 */
export function repeatEvidence(event: KubeEvent, quoted: string | undefined): string {
  const from = event.source?.component ?? event.reportingComponent;
  const message = event.message ?? '';
  const same = !!quoted && message.replace(/^Error: /, '') === quoted;
  return `event ${event.reason ?? '?'} (x${eventCount(event)}${from ? `, ${from}` : ''}${event.firstTimestamp ? `, since ${event.firstTimestamp}` : ''}): ${same ? 'the same message' : firstLine(message, MAX_TEXT)}`;
}

/** `spec.containers[api]` / `spec.initContainers[migrate]`: where a container lives in the pod spec. */
export function specPath(view: ContainerView): string {
  return `spec.${view.init ? 'initContainers' : 'containers'}[${view.status.name}]`;
}

/** `Container api` / `Init container migrate`, for titles. */
export function containerLabel(view: ContainerView): string {
  return `${view.init ? 'Init container' : 'Container'} ${view.status.name}`;
}

/** The workload whose pod template shapes the pod, with the path of the pod spec inside it. */
interface TemplateOwner {
  /** kubectl's name for it: deployment/web, cronjob/report. */
  target: string;
  /** Where the pod spec sits in the object, outermost key first. */
  path: string[];
}

/**
 * The object to edit to change a pod's spec for good, or undefined when there is none that can be
 * edited: a Job's template is immutable, and most of a bare pod's spec is too.
 */
export function templateOwner(pod: Pod, index: SnapshotIndex): TemplateOwner | undefined {
  const owner = index.ownerOf(pod);
  if (!owner) return undefined;
  const target = `${owner.kind.toLowerCase()}/${owner.name}`;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(owner.kind)) return { target, path: ['spec', 'template', 'spec'] };
  if (owner.kind === 'CronJob') return { target, path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] };
  return undefined;
}

/** `kubectl patch deployment/web -n prod -p '{"spec":{"template":{"spec":{...}}}}'` for a pod-spec patch, when the pod has an editable template. */
export function templatePatch(pod: Pod, index: SnapshotIndex, podSpecPatch: Record<string, unknown>): string | undefined {
  const owner = templateOwner(pod, index);
  if (!owner) return undefined;
  let body: Record<string, unknown> = podSpecPatch;
  for (const key of [...owner.path].reverse()) body = { [key]: body };
  return `kubectl patch ${owner.target} ${nsFlag(pod.metadata.namespace)}-p ${shellQuote(JSON.stringify(body))}`;
}

/**
 * A step that changes the pod spec: `kubectl edit` of the workload that owns the template, or, for a
 * Job or a bare pod (whose spec cannot be changed in place), the manifest to fix and re-create.
 */
export function editSpecStep(pod: Pod, index: SnapshotIndex, what: string): RemediationStep {
  const owner = templateOwner(pod, index);
  if (owner) {
    // A CronJob's change reaches the next run only: the Job it already made keeps the old template.
    const job = owner.target.startsWith('cronjob/') ? controllerOf(pod.metadata.ownerReferences) : undefined;
    const note = job?.kind === 'Job' ? ` (Job ${job.name} keeps the old template: delete it so the next run uses the fix)` : '';
    return { description: `${what} in the pod template${note}`, command: `kubectl edit ${owner.target} ${nsFlag(pod.metadata.namespace)}`.trimEnd() };
  }
  const target = kubectl.target(pod, index);
  return {
    description: `${what} in the manifest and re-create ${target} (${target.startsWith('job/') ? 'a Job\'s pod template cannot be changed' : 'a pod\'s spec cannot be changed in place'})`,
    command: `kubectl get ${target} ${nsFlag(pod.metadata.namespace)}-o yaml`,
  };
}

/** The image and (unless `command` is false) the command it runs, as evidence lines. */
export function imageEvidence(view: ContainerView, command = true): string[] {
  const lines: string[] = [];
  const image = view.spec?.image ?? view.status.image;
  if (image) lines.push(`image=${image}${view.status.imageID ? ` (${view.status.imageID})` : ''}`);
  if (!command) return lines;
  const words = [...(view.spec?.command ?? []), ...(view.spec?.args ?? [])];
  lines.push(words.length ? `spec command/args: ${words.map((w) => JSON.stringify(w)).join(' ')}` : 'spec command/args: none (the image ENTRYPOINT/CMD run)');
  return lines;
}

/** What a start-error cause means, in a sentence that can follow "because". */
export function startErrorWhy(cause: StartErrorCause | undefined, message: string | undefined, pod?: Pod): string {
  const path = execPath(message);
  const named = path ? `"${path}"` : 'the executable';
  switch (cause) {
    case 'entrypoint-not-found':
      if (notOnPath(message)) return `no ${named} is on the image's PATH: the command in the pod spec, or the image's ENTRYPOINT/CMD, names a program the image does not have (or that lives outside PATH)`;
      return fileMissing(message)
        ? `${named} does not exist in the image: the command in the pod spec, or the image's ENTRYPOINT/CMD, names a file the image does not have`
        : `${named} could not be run: it is missing from the image, or it is there but a script's #! interpreter (e.g. /bin/bash in an Alpine image) or a binary's dynamic loader (glibc's on a musl image) is not`;
    case 'entrypoint-not-executable':
      return `${named} exists but may not be executed: it lacks the execute bit, sits on a noexec mount, or the container's user cannot read it`;
    case 'empty-command':
      return 'there is nothing to run: the pod spec\'s command is empty ("") or neither it nor the image gives an ENTRYPOINT/CMD';
    case 'wrong-architecture':
      return `${named} is built for another CPU architecture than the node's`;
    case 'volume-mount': {
      const mount = mountInfo(message, pod);
      if (mount.volume) {
        const keyed = mount.volume.configMap || mount.volume.secret;
        return `the subPath of ${volumeText(mount.volume)}${mount.target ? ` mounted at ${mount.target}` : ''} cannot be mounted: a directory cannot be mounted onto a file, nor a file onto a directory${keyed ? ` (a subPath naming a key the ${mount.volume.configMap ? 'configmap' : 'secret'} does not have becomes an empty directory)` : ''}`;
      }
      return `the runtime could not set up one of the container's mounts${mount.source ? ` (${mount.source}${mount.target ? ` at ${mount.target}` : ''})` : ''}: a hostPath or subPath source is missing, is a file where a directory is expected (or the reverse), or cannot be created on the node`;
    }
    default:
      return 'the container runtime refused; its message says why';
  }
}

/** Remediation for a start-error cause, filled in for the container. */
export function startErrorSteps(cause: StartErrorCause | undefined, view: ContainerView, index: SnapshotIndex, message: string | undefined): RemediationStep[] {
  const { pod } = view;
  const image = view.spec?.image ?? view.status.image ?? '<image>';
  const path = execPath(message);
  const dir = path && path.includes('/') ? path.replace(/\/[^/]*$/, '') || '/' : '/';
  switch (cause) {
    case 'entrypoint-not-found': {
      const list: RemediationStep = { description: 'List what the image has where the command points (needs a local Docker and pull access)', command: `docker run --rm --entrypoint ls ${shellQuote(image)} -la ${shellQuote(dir)}` };
      const look: RemediationStep[] =
        notOnPath(message) && path
          ? [{ description: `Look ${path} up in the image's PATH (needs a local Docker, pull access, and a shell in the image)`, command: `docker run --rm --entrypoint sh ${shellQuote(image)} -c ${shellQuote(`echo "$PATH"; command -v ${path}`)}` }]
          : fileMissing(message) || !path
            ? [list]
            : [list, { description: `If ${path} is there, read its first line: the #! interpreter it names must exist in the image`, command: `docker run --rm --entrypoint head ${shellQuote(image)} -1 ${shellQuote(path)}` }];
      return [...look, editSpecStep(pod, index, `Fix the command of ${view.status.name} (or fix the image's ENTRYPOINT / COPY so the file is there)`)];
    }
    case 'entrypoint-not-executable':
      return [
        { description: `Check the mode of ${path ?? 'the entrypoint'} in the image`, command: `docker run --rm --entrypoint ls ${shellQuote(image)} -la ${shellQuote(path ?? dir)}` },
        { description: 'Make it executable in the image (RUN chmod +x, or `git update-index --chmod=+x` for a script from the repository), and do not run it from a noexec mount (an emptyDir or ConfigMap volume without defaultMode 0755)' },
      ];
    case 'empty-command':
      return [
        { description: 'See what the image runs by default', command: `docker image inspect ${shellQuote(image)} --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}'` },
        editSpecStep(pod, index, `Give ${view.status.name} a command (or remove the empty "" entry)`),
      ];
    case 'wrong-architecture':
      return [
        { description: 'List the platforms the image is built for', command: `docker manifest inspect ${shellQuote(image)}` },
        { description: 'Build and push it for every architecture the nodes have', command: `docker buildx build --platform linux/amd64,linux/arm64 -t ${shellQuote(image)} --push .` },
      ];
    case 'volume-mount': {
      const mount = mountInfo(message, pod);
      const ns = nsFlag(pod.metadata.namespace);
      const keyed = mount.volume?.configMap?.name ? `configmap ${mount.volume.configMap.name}` : mount.volume?.secret?.secretName ? `secret ${mount.volume.secret.secretName}` : undefined;
      return [
        ...(keyed
          ? [{ description: `Check that ${keyed} has the key the subPath names${mount.target ? ` (mounted at ${mount.target})` : ''}`, command: `kubectl describe ${keyed} ${ns}`.trimEnd() }]
          : pod.spec?.nodeName && mount.source
            ? [{ description: `Look at ${mount.source} on node ${pod.spec.nodeName} (the node's filesystem is under /host)`, command: `kubectl debug node/${pod.spec.nodeName} -it --image=busybox:1.36 -- ls -la ${shellQuote(`/host${mount.source}`)}` }]
            : []),
        editSpecStep(pod, index, keyed ? 'Fix the subPath (or the mountPath: a file key mounts onto a file path)' : 'Fix the hostPath / subPath (a file mounted onto a directory, or the reverse, fails), or point it at a writable location'),
      ];
    }
    default:
      return [{ description: 'Read the runtime\'s message and the events', command: kubectl.describePod(pod) }];
  }
}
