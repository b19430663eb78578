import type { Pod } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule } from '../src/model/finding.js';
import type { ContainerView } from '../src/model/pod.js';
import { kubectl, nsFlag, podRef } from '../src/model/pod.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { waitingContainers } from '../src/model/terminations.js';
import { containerLabel, editSpecStep, failedEvents, repeatEvidence, specPath, templatePatch } from '../src/model/container-start.js';
import { MAX_TEXT, firstLine, shellQuote } from '../src/model/text.js';

/** What the kubelet could not resolve while building the container's configuration. */
type ConfigCause = 'missing-secret' | 'missing-secret-key' | 'missing-configmap' | 'missing-configmap-key' | 'run-as-non-root' | 'other';

/** The kubelet's message, read: the missing object (and key) it names. */
interface ConfigProblem {
  cause: ConfigCause;
  kind?: 'Secret' | 'ConfigMap';
  name?: string;
  key?: string;
}

/**
 * Read a CreateContainerConfigError message. The kubelet's Secret/ConfigMap cache says
 * `secret "x" not found` (an API read says `secrets "x" not found`); a missing key is
 * `couldn't find key K in Secret ns/x` (capitalised "Couldn't" before Kubernetes 1.7).
 */
function parse(message: string): ConfigProblem {
  const key = message.match(/couldn't find key (\S+) in (Secret|ConfigMap) (?:[^/\s]+\/)?(\S+)/i);
  if (key) {
    const kind = key[2]!.toLowerCase() === 'secret' ? 'Secret' : 'ConfigMap';
    return { cause: kind === 'Secret' ? 'missing-secret-key' : 'missing-configmap-key', kind, name: key[3]!, key: key[1]! };
  }
  const secret = message.match(/\bsecrets? "([^"]+)" not found/i);
  if (secret) return { cause: 'missing-secret', kind: 'Secret', name: secret[1]! };
  const configMap = message.match(/\bconfigmaps? "([^"]+)" not found/i);
  if (configMap) return { cause: 'missing-configmap', kind: 'ConfigMap', name: configMap[1]! };
  if (/runAsNonRoot/i.test(message)) return { cause: 'run-as-non-root' };
  return { cause: 'other' };
}

/** One place in the pod spec that reads the object: an env var, an envFrom entry or a volume. */
interface Reference {
  evidence: string;
  /** The env var name, for env references. */
  env?: string;
  key?: string;
}

/** Where the pod spec refers to the object: the container's env and envFrom, and the pod's volumes. */
function references(view: ContainerView, kind: 'Secret' | 'ConfigMap', name: string): Reference[] {
  const refs: Reference[] = [];
  const where = specPath(view);
  for (const env of view.spec?.env ?? []) {
    const ref = kind === 'Secret' ? env.valueFrom?.secretKeyRef : env.valueFrom?.configMapKeyRef;
    if (ref?.name !== name) continue;
    const field = kind === 'Secret' ? 'secretKeyRef' : 'configMapKeyRef';
    refs.push({ evidence: `${where}.env[${env.name}].valueFrom.${field}: ${name}/${ref.key ?? '?'}${ref.optional ? ' (optional)' : ''}`, env: env.name, ...(ref.key ? { key: ref.key } : {}) });
  }
  (view.spec?.envFrom ?? []).forEach((from, i) => {
    const ref = kind === 'Secret' ? from.secretRef : from.configMapRef;
    if (ref?.name === name) refs.push({ evidence: `${where}.envFrom[${i}].${kind === 'Secret' ? 'secretRef' : 'configMapRef'}: ${name} (every key becomes an env var)` });
  });
  for (const volume of view.pod.spec?.volumes ?? []) {
    const ref = kind === 'Secret' ? volume.secret?.secretName : volume.configMap?.name;
    const optional = kind === 'Secret' ? volume.secret?.optional : volume.configMap?.optional;
    if (ref === name) refs.push({ evidence: `spec.volumes[${volume.name}].${kind === 'Secret' ? 'secret.secretName' : 'configMap.name'}=${name}${optional ? ' (optional: mounted empty while it is missing)' : ''}` });
  }
  return refs;
}

/** Every key the pod's containers read from the object, for a `kubectl create ... --from-literal` line. */
function keysRead(pod: Pod, kind: 'Secret' | 'ConfigMap', name: string): string[] {
  const keys = new Set<string>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const env of c.env ?? []) {
      const ref = kind === 'Secret' ? env.valueFrom?.secretKeyRef : env.valueFrom?.configMapKeyRef;
      if (ref?.name === name && ref.key) keys.add(ref.key);
    }
  }
  return [...keys].sort();
}

/** Remediation for a missing object or key, with the object's real name and the keys the pod reads. */
function steps(view: ContainerView, index: SnapshotIndex, problem: ConfigProblem, refs: Reference[]): RemediationStep[] {
  const { pod } = view;
  const ns = nsFlag(pod.metadata.namespace);
  const namespace = pod.metadata.namespace ?? 'default';
  const describe = { description: 'Read the kubelet\'s message and events', command: kubectl.describePod(pod) };
  const kind = problem.kind === 'Secret' ? 'secret' : 'configmap';
  const name = problem.name ?? '';
  switch (problem.cause) {
    case 'missing-secret':
    case 'missing-configmap': {
      const keys = keysRead(pod, problem.kind!, name);
      const literals = keys.length ? keys.map((k) => `--from-literal=${shellQuote(k)}=<value>`).join(' ') : '--from-literal=<key>=<value>';
      return [
        { description: `Confirm that ${kind} ${name} is missing from namespace ${namespace}`, command: `kubectl get ${kind} ${name} ${ns}`.trimEnd() },
        { description: `${problem.kind}s are namespaced: look for one by that name elsewhere (created in the wrong namespace?)`, command: `kubectl get ${kind}s -A --field-selector metadata.name=${name}` },
        {
          description: `Create it with the key${keys.length === 1 ? '' : 's'} the pod reads${keys.length ? '' : ' (envFrom reads every key: add the ones the application expects)'}; the kubelet retries on its own, no restart needed`,
          command: `kubectl create ${problem.kind === 'Secret' ? 'secret generic' : 'configmap'} ${name} ${ns}${literals}`,
        },
        { description: `If a controller is meant to create it (External Secrets, Sealed Secrets, a Helm hook, a CI job), check that controller instead` },
        editSpecStep(pod, index, `Or fix the ${kind} name the container refers to`),
        describe,
      ];
    }
    case 'missing-secret-key':
    case 'missing-configmap-key': {
      const key = problem.key ?? '<key>';
      const env = refs.find((r) => r.key === key && r.env)?.env;
      const field = problem.kind === 'Secret' ? 'stringData' : 'data';
      return [
        {
          description: `List the keys ${kind} ${name} has${problem.kind === 'Secret' ? ' (describe shows key names and sizes, never values)' : ''}: a typo or a different case?`,
          command: `kubectl describe ${kind} ${name} ${ns}`.trimEnd(),
        },
        { description: `Add key ${key}; the kubelet retries on its own, no restart needed`, command: `kubectl patch ${kind} ${name} ${ns}--type merge -p ${shellQuote(JSON.stringify({ [field]: { [key]: '<value>' } }))}` },
        editSpecStep(pod, index, `Or fix the key${env ? ` env ${env} reads` : ''} (or mark the reference optional: true if the application copes without it)`),
        describe,
      ];
    }
    case 'run-as-non-root': {
      const patch = templatePatch(pod, index, { containers: [{ name: view.status.name, securityContext: { runAsUser: '<uid>' } }] });
      return [
        {
          description: `Run ${view.status.name} as a non-zero numeric UID the image works with (runAsUser overrides the image's USER)`,
          ...(patch ? { command: patch.replace('"<uid>"', '<uid>') } : { command: `kubectl get ${kubectl.target(pod, index)} ${ns}-o yaml` }),
        },
        { description: 'Or fix the image: a numeric USER (USER 10001, not USER app) in the Dockerfile' },
        describe,
      ];
    }
    default:
      return [describe, { description: 'Read the events in order', command: kubectl.podEvents(pod) }];
  }
}

/**
 * CreateContainerConfigError: before creating a container the kubelet resolves its environment
 * (env valueFrom, envFrom) and security settings. A Secret or ConfigMap (or one of its keys) that is
 * missing stops it, and the container is never created.
 */
const rule: Rule = {
  id: 'create-container-config-error',
  title: 'Container configuration cannot be built (CreateContainerConfigError)',
  severity: 'critical',
  description:
    'The kubelet cannot build the container\'s configuration, so it never creates the container. Most often a Secret or ConfigMap the container reads through env valueFrom or envFrom does not exist in the pod\'s namespace, or lacks the key it names; also runAsNonRoot with an image that runs as root or as a non-numeric user. The kubelet retries on its own: once the object or key exists, the container starts.',
  detection:
    'state.waiting.reason=CreateContainerConfigError on a container or init container. The waiting message and the kubelet\'s Failed events ("Error: secret \\"db-creds\\" not found", "couldn\'t find key password in Secret prod/db-creds", the same for configmap) name the missing object and key; the env, envFrom and volumes of the spec that refer to it are evidence.',
  supersedes: ['pod-pending'],
  remediation: [
    { description: 'Read the kubelet\'s message', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Missing secret: create it in the pod\'s namespace (or fix the name the pod refers to)', command: 'kubectl create secret generic NAME -n NAMESPACE --from-literal=KEY=VALUE' },
    { description: 'Missing key: add it to the secret or configmap, or fix the key in the env reference', command: 'kubectl describe secret NAME -n NAMESPACE' },
    { description: 'runAsNonRoot: set a numeric non-zero runAsUser, or a numeric USER in the image' },
  ],
  match: (context) => {
    const { index } = context;
    const findings: Finding[] = [];
    for (const { pod, view, waiting } of waitingContainers(context, 'CreateContainerConfigError')) {
      const name = view.status.name;
      const events = failedEvents(index, pod, name, /^Error: /);
      const latest = events[events.length - 1];
      const message = waiting.message || latest?.message?.replace(/^Error: /, '') || '';
      const problem = parse(message);
      const refs = problem.kind && problem.name ? references(view, problem.kind, problem.name) : [];

      const evidence = [`state.waiting.reason=CreateContainerConfigError`];
      if (waiting.message) evidence.push(`state.waiting.message: ${firstLine(waiting.message, MAX_TEXT)}`);
      if (latest) evidence.push(repeatEvidence(latest, waiting.message));
      evidence.push(...refs.map((r) => r.evidence));
      if (problem.kind && problem.name && refs.length === 0) evidence.push(`no env, envFrom or volume of ${name} in the snapshot names ${problem.kind.toLowerCase()} ${problem.name}`);
      if (view.init) evidence.push('init container: the pod cannot start until it runs');

      const namespace = pod.metadata.namespace ?? 'default';
      const kind = problem.kind === 'Secret' ? 'secret' : 'configmap';
      const readers = refs.filter((r) => r.env).map((r) => r.env);
      const readBy = readers.length ? ` (env ${readers.join(', ')} read${readers.length === 1 ? 's' : ''} it)` : refs.length ? ' (the container\'s envFrom reads it)' : '';
      let what: string;
      let explanation: string;
      switch (problem.cause) {
        case 'missing-secret':
        case 'missing-configmap':
          what = `${kind} "${problem.name}" not found`;
          explanation = `Before creating ${name} the kubelet reads ${kind} ${problem.name}${readBy}, and no ${kind} by that name exists in namespace ${namespace}. The container is not created until it does; the kubelet retries on every sync, so creating the ${kind} (or fixing the name the pod refers to) is enough.`;
          break;
        case 'missing-secret-key':
        case 'missing-configmap-key': {
          const env = refs.find((r) => r.key === problem.key && r.env)?.env;
          what = `key ${problem.key} missing from ${kind} ${problem.name}`;
          explanation = `${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${problem.name} exists in namespace ${namespace}, but has no key ${problem.key}${env ? `, which env ${env} reads` : ''}. Keys are case-sensitive. A non-optional reference to a missing key stops the container from being created; the kubelet retries on every sync, so adding the key (or fixing the reference) is enough.`;
          break;
        }
        case 'run-as-non-root':
          what = /non-numeric user/i.test(message) ? 'runAsNonRoot cannot be verified (non-numeric image user)' : 'runAsNonRoot, but the image runs as root';
          explanation = /non-numeric user/i.test(message)
            ? `The pod requires ${name} to run as non-root (securityContext.runAsNonRoot), and the image names its user by name, not UID: the kubelet cannot prove a user name is not root without the image's /etc/passwd, so it refuses to create the container.`
            : `The pod requires ${name} to run as non-root (securityContext.runAsNonRoot), but neither the pod nor the image sets a non-zero user: the image would run as UID 0, so the kubelet refuses to create the container.`;
          break;
        default:
          what = 'its configuration cannot be built';
          explanation = `The kubelet could not build ${name}'s configuration before creating it: ${firstLine(message) || 'the message is empty'}. The container is not created until that is resolved.`;
      }

      const finding: Finding = {
        severity: 'critical',
        title: `${containerLabel(view)} cannot start: ${what}`,
        object: podRef(pod, name),
        evidence,
        explanation,
        remediation: steps(view, index, problem, refs),
        confidence: problem.cause === 'other' ? 0.6 : 0.95,
        cause: problem.cause,
      };
      findings.push(finding);
    }
    return findings;
  },
};

export default rule;
