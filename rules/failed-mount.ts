import type { KubeEvent, Pod, Volume } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import { containers, eventEvidence, eventsWithReason, kubectl, msSincePlaced, podRef, startFailurePassed, waitingToStart } from '../src/model/pod.js';
import { eventTime } from '../src/model/snapshot-index.js';
import { age, firstLine, shellQuote } from '../src/model/text.js';

/** Why a volume cannot be attached or mounted, from the kubelet's and attach/detach controller's messages. */
type MountCause = 'missing-secret' | 'missing-configmap' | 'pvc-not-found' | 'unbound-pvc' | 'multi-attach' | 'timeout' | 'other';

/** What one FailedMount / FailedAttachVolume event says. */
interface MountProblem {
  cause: MountCause;
  event: KubeEvent;
  /** The volume name the message gives: the pod's volume name, or a PersistentVolume name (pvc-...). */
  volume?: string;
  /** The object the volume refers to that is missing or unusable (secret, configmap, claim name). */
  object?: string;
  /** Pods a Multi-Attach error says hold the volume. */
  holders?: string[];
  /** Volumes a timeout message lists as not mounted. */
  unmounted?: string[];
}

/** A pod younger than this on its node may still start (a secret being issued, a detach in progress). */
const YOUNG_MS = 2 * 60 * 1000;

const TIMEOUT = /timed out waiting for the condition|context deadline exceeded|timeout expired waiting for volumes/i;

/** Read one event's message. The specific messages are tried before the generic "Unable to attach or mount volumes" timeout. */
function parse(event: KubeEvent): MountProblem {
  const text = event.message ?? '';
  const volume = text.match(/for volume "([^"]+)"/)?.[1];
  const problem = (cause: MountCause, extra: Partial<MountProblem> = {}): MountProblem => ({ cause, event, ...(volume ? { volume } : {}), ...extra });
  const multi = text.match(/Multi-Attach error for volume "([^"]+)"/);
  if (multi) {
    const users = text.match(/already used by pod\(s\) (.+?)(?: and \d+ pod\(s\) in different namespaces)?\s*$/)?.[1];
    return problem('multi-attach', { volume: multi[1]!, ...(users ? { holders: users.split(/,\s*/).filter((p) => p !== '') } : {}) });
  }
  const secret = text.match(/\bsecrets? "([^"]+)" not found/i);
  if (secret) return problem('missing-secret', { object: secret[1]! });
  const configMap = text.match(/\bconfigmaps? "([^"]+)" not found/i);
  if (configMap) return problem('missing-configmap', { object: configMap[1]! });
  const noClaim = text.match(/persistentvolumeclaims? "([^"]+)" not found/i);
  if (noClaim) return problem('pvc-not-found', { object: noClaim[1]! });
  const unbound = text.match(/error processing PVC "?[^"/\s]+"?\/"?([^":\s]+)"?: PVC is not bound/i);
  if (unbound) return problem('unbound-pvc', { object: unbound[1]! });
  const unmounted = text.match(/unmounted volumes=\[([^\]]*)\]/)?.[1]?.split(/\s+/).filter((v) => v !== '');
  if (/Unable to (?:attach or )?mount volumes/i.test(text) && TIMEOUT.test(text)) return problem('timeout', unmounted ? { unmounted } : {});
  return problem('other');
}

/** The pod's volume a problem is about: by name, by the object it names, or the pod's only claim for a PersistentVolume name. */
function podVolume(pod: Pod, problem: MountProblem, problems: MountProblem[]): Volume | undefined {
  const volumes = pod.spec?.volumes ?? [];
  const byName = volumes.find((v) => v.name === problem.volume);
  if (byName) return byName;
  if (problem.cause === 'missing-secret') return volumes.find((v) => v.secret?.secretName === problem.object);
  if (problem.cause === 'missing-configmap') return volumes.find((v) => v.configMap?.name === problem.object);
  if (problem.cause === 'pvc-not-found' || problem.cause === 'unbound-pvc') return volumes.find((v) => v.persistentVolumeClaim?.claimName === problem.object);
  // Attach errors name the PersistentVolume (pvc-<uid>), not the pod's volume: the pod's only claim
  // is the one, else the claim the kubelet lists as not mounted.
  const claims = volumes.filter((v) => v.persistentVolumeClaim);
  if (claims.length === 1) return claims[0];
  const unmounted = new Set(problems.flatMap((p) => p.unmounted ?? []));
  const candidates = claims.filter((v) => unmounted.has(v.name));
  return candidates.length === 1 ? candidates[0] : undefined;
}

/** `volume "tls" (secret web-tls)` */
function describeVolume(volume: Volume | undefined, fallback: string | undefined): string {
  if (!volume) return fallback ? `volume "${fallback}"` : 'a volume';
  if (volume.secret) return `volume "${volume.name}" (secret ${volume.secret.secretName ?? '?'})`;
  if (volume.configMap) return `volume "${volume.name}" (configmap ${volume.configMap.name ?? '?'})`;
  if (volume.persistentVolumeClaim) return `volume "${volume.name}" (claim ${volume.persistentVolumeClaim.claimName ?? '?'})`;
  return `volume "${volume.name}"`;
}

/** Evidence line for a pod volume: where it points. */
function volumeEvidence(volume: Volume): string {
  if (volume.secret) return `spec.volumes[${volume.name}].secret.secretName=${volume.secret.secretName ?? '?'}${volume.secret.optional ? ' (optional)' : ''}`;
  if (volume.configMap) return `spec.volumes[${volume.name}].configMap.name=${volume.configMap.name ?? '?'}${volume.configMap.optional ? ' (optional)' : ''}`;
  if (volume.persistentVolumeClaim) return `spec.volumes[${volume.name}].persistentVolumeClaim.claimName=${volume.persistentVolumeClaim.claimName ?? '?'}`;
  return `spec.volumes[${volume.name}]`;
}

/** Title, explanation and the cause-specific remediation steps of a finding. */
function verdict(context: RuleContext, pod: Pod, main: MountProblem, volume: Volume | undefined, others: MountProblem[]): { what: string; explanation: string; remediation: RemediationStep[] } {
  const ns = shellQuote(pod.metadata.namespace ?? 'default');
  const node = pod.spec?.nodeName;
  const vol = describeVolume(volume, main.volume);
  const claim = volume?.persistentVolumeClaim?.claimName ?? main.object;
  switch (main.cause) {
    case 'missing-secret':
    case 'missing-configmap': {
      const kind = main.cause === 'missing-secret' ? 'secret' : 'configmap';
      const name = main.object ?? '?';
      const steps: RemediationStep[] = [{ description: `Check whether ${kind} ${name} exists in ${ns} (a typo in the name, or it lives in another namespace)`, command: `kubectl get ${kind} ${shellQuote(name)} -n ${ns}` }];
      steps.push({ description: `List the ${kind}s the namespace has`, command: `kubectl get ${kind}s -n ${ns}` });
      for (const other of others) {
        if ((other.cause === 'missing-secret' || other.cause === 'missing-configmap') && other.object && other.object !== name) {
          const otherKind = other.cause === 'missing-secret' ? 'secret' : 'configmap';
          steps.push({ description: `The pod also needs ${otherKind} ${other.object}`, command: `kubectl get ${otherKind} ${shellQuote(other.object)} -n ${ns}` });
        }
      }
      return {
        what: `volume "${volume?.name ?? main.volume ?? '?'}" needs ${kind} ${name}, which does not exist`,
        explanation: `The kubelet cannot mount ${vol}: ${kind} ${name} does not exist in namespace ${ns}. A pod's volumes must all be mounted before any container starts, so the pod stays in ContainerCreating and the kubelet retries until the ${kind} appears. Create it (or check whatever is meant to create it: a cert-manager Certificate, an external-secrets sync, a Helm release), fix the name in the pod template, or mark the volume optional: true if the pod can run without it.`,
        remediation: steps,
      };
    }
    case 'pvc-not-found':
      return {
        what: `PersistentVolumeClaim ${claim ?? '?'}${volume ? ` (volume "${volume.name}")` : ''} does not exist`,
        explanation: `${vol} refers to PersistentVolumeClaim ${claim ?? '?'}, which does not exist in ${ns}. The kubelet cannot mount a claim that is not there, so the pod never starts. Create the claim (a StatefulSet creates its own from volumeClaimTemplates; a deleted one is not recreated for a running StatefulSet pod), or fix the claim name in the pod template.`,
        remediation: [
          { description: 'List the claims in the namespace', command: `kubectl get pvc -n ${ns}` },
          { description: 'See the events about the missing claim', command: `kubectl get events -n ${ns} --field-selector involvedObject.kind=PersistentVolumeClaim` },
        ],
      };
    case 'unbound-pvc':
      return {
        what: `PersistentVolumeClaim ${claim ?? '?'}${volume ? ` (volume "${volume.name}")` : ''} is not bound`,
        explanation: `PersistentVolumeClaim ${claim ?? '?'} exists but no PersistentVolume is bound to it, so the kubelet has nothing to mount. Its events say why: no StorageClass (or a wrong storageClassName), a provisioner that fails or is not installed, no static volume matching its size and access mode, or a topology the provisioner cannot satisfy.`,
        remediation: [
          { description: `Read the claim's status and events (provisioning errors show there)`, command: `kubectl describe pvc ${shellQuote(claim ?? '<claim>')} -n ${ns}` },
          { description: 'See which claims are Pending and which StorageClass they ask for', command: `kubectl get pvc -n ${ns}` },
          { description: 'Check the StorageClasses and which one is the default', command: 'kubectl get storageclass' },
        ],
      };
    case 'multi-attach': {
      const holders = main.holders ?? [];
      const holderPods = holders.map((name) => context.snapshot.pods.find((p) => p.metadata.namespace === pod.metadata.namespace && p.metadata.name === name));
      const named = holders.map((name, i) => (holderPods[i]?.spec?.nodeName ? `${name} (on ${holderPods[i]!.spec.nodeName})` : name));
      const leaving = holderPods.filter((p): p is Pod => !!p?.metadata.deletionTimestamp).map((p) => p.metadata.name);
      const owner = context.index.ownerOf(pod);
      const sameOwner = holderPods.some((p) => {
        const other = p ? context.index.ownerOf(p) : null;
        return !!owner && !!other && other.kind === owner.kind && other.name === owner.name;
      });
      const disk = `${main.volume ? `PersistentVolume ${main.volume}` : 'The disk'}${volume?.persistentVolumeClaim ? ` (claim ${volume.persistentVolumeClaim.claimName ?? '?'}, pod volume "${volume.name}")` : ''}`;
      let explanation = `${disk} is a ReadWriteOnce disk still attached to another node${holders.length ? `, where ${named.join(', ')} ${holders.length > 1 ? 'use' : 'uses'} it` : ' (the controller names no pod using it there)'}, so it cannot be attached to ${node ?? 'this pod\'s node'}: a ReadWriteOnce disk attaches to one node at a time.`;
      if (leaving.length) explanation += ` ${leaving.join(', ')} ${leaving.length > 1 ? 'are' : 'is'} being deleted: the disk is released once it is gone and detached.`;
      else if (sameOwner && owner?.kind === 'Deployment') explanation += ` The pod holding it belongs to the same Deployment ${owner.name}: with the RollingUpdate strategy the new pod starts before the old one stops, so a rollout of a Deployment with a ReadWriteOnce claim waits forever. Use strategy Recreate (or a StatefulSet).`;
      else if (holders.length) explanation += ' Pods on different nodes cannot share a ReadWriteOnce claim: keep them on one node (pod affinity) or use a ReadWriteMany volume.';
      else explanation += ' This happens when the node the disk was attached to failed or was terminated: the attach/detach controller detaches it once the old pod and node are confirmed gone, and a VolumeAttachment that stays may have to be deleted by hand.';
      const steps: RemediationStep[] = [{ description: `See which node holds ${main.volume ?? 'the volume'}`, command: `kubectl get volumeattachment | grep ${shellQuote(main.volume ?? '<volume>')}` }];
      if (holders.length) steps.push({ description: 'See where the pods using the volume run', command: `kubectl get pods -n ${ns} -o wide ${holders.map(shellQuote).join(' ')}` });
      if (sameOwner && owner?.kind === 'Deployment' && !leaving.length) steps.push({ description: `Switch ${owner.name} to the Recreate strategy so the old pod releases the disk first`, command: `kubectl patch deployment ${owner.name} -n ${ns} -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'` });
      const which = volume ? `volume "${volume.name}" (${main.volume ?? '?'})` : `volume ${main.volume ?? '?'}`;
      return { what: `${which} is still attached to another node${holders.length ? ` (used by ${holders.join(', ')})` : ''}`, explanation, remediation: steps };
    }
    case 'timeout': {
      const unmounted = main.unmounted?.length ? main.unmounted : volume ? [volume.name] : [];
      const claims = unmounted.map((name) => pod.spec?.volumes?.find((v) => v.name === name)).filter((v): v is Volume => !!v?.persistentVolumeClaim);
      const steps: RemediationStep[] = [];
      if (claims.length) steps.push({ description: 'Check the claims are Bound', command: `kubectl get pvc -n ${ns}` }, { description: 'See whether the volume is attached to the node', command: 'kubectl get volumeattachment' });
      if (node) steps.push({ description: `Check the storage (CSI) driver's pods on ${node}`, command: `kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=${node}` });
      return {
        what: `the kubelet timed out mounting ${unmounted.length ? unmounted.map((v) => `"${v}"`).join(', ') : 'its volumes'}`,
        explanation: `The kubelet waited the full 2 minutes for ${unmounted.length ? `volume(s) ${unmounted.join(', ')}` : 'the pod\'s volumes'} to be attached and mounted, and gave up; it keeps retrying. No event names a more specific error: the attach may still be in progress on the cloud side, the storage driver on the node may be failing, or the volume is in another zone than the node. The storage driver's logs and the VolumeAttachment say more.`,
        remediation: steps,
      };
    }
    default: {
      const steps: RemediationStep[] = [];
      if (node) steps.push({ description: `Check the storage (CSI) driver's pods on ${node}`, command: `kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=${node}` });
      if (volume?.persistentVolumeClaim || /^pvc-/.test(main.volume ?? '')) steps.push({ description: 'See whether the volume is attached to the node', command: `kubectl get volumeattachment | grep ${shellQuote(main.volume ?? '<volume>')}` });
      return {
        what: `${vol} cannot be ${main.event.reason === 'FailedAttachVolume' ? 'attached' : 'mounted'}`,
        explanation: `The ${main.event.reason === 'FailedAttachVolume' ? 'attach/detach controller cannot attach' : 'kubelet cannot mount'} ${vol}: ${firstLine(main.event.message, 240)}. The pod cannot start until every volume is mounted.`,
        remediation: steps,
      };
    }
  }
}

/**
 * A pod that cannot start because a volume cannot be attached or mounted: the kubelet mounts every
 * volume before it creates the sandbox, so one missing secret keeps the whole pod in ContainerCreating.
 */
const rule: Rule = {
  id: 'failed-mount',
  title: 'Pod cannot start: a volume cannot be attached or mounted',
  severity: 'critical',
  description:
    'The pod is on a node but stays in ContainerCreating (or Init:0/N) because one of its volumes cannot be attached or mounted: the secret or configmap it names does not exist, its PersistentVolumeClaim does not exist or is not bound, its ReadWriteOnce disk is still attached to another node (Multi-Attach), or the attach/mount times out. No container starts until every volume is mounted.',
  detection:
    'Pods placed on a node whose containers all wait in ContainerCreating / PodInitializing, with FailedMount events from the kubelet ("MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found", "... configmap ... not found", "error processing PVC ns/data: PVC is not bound", "persistentvolumeclaims "data" not found", "Unable to attach or mount volumes: unmounted volumes=[data] ...: timed out waiting for the condition") or FailedAttachVolume events from the attach/detach controller ("Multi-Attach error for volume "pvc-..." Volume is already used by pod(s) web-0"). A specific error outranks the generic timeout the kubelet also reports. Events followed by a later container event (Pulling, Created, Started) or sandbox attempt are history. The volume is matched to spec.volumes. Pods placed less than 2 minutes ago are a warning.',
  supersedes: ['pod-pending'],
  remediation: [
    { description: 'Read the FailedMount / FailedAttachVolume events and the pod\'s volumes', command: 'kubectl describe pod -n NAMESPACE POD' },
    { description: 'Missing secret or configmap: create it, fix the name, or mark the volume optional', command: 'kubectl get secret NAME -n NAMESPACE' },
    { description: 'Claim missing or not bound: read the claim\'s events', command: 'kubectl describe pvc CLAIM -n NAMESPACE' },
    { description: 'Multi-Attach: see which node holds the disk; use strategy Recreate for a Deployment with a ReadWriteOnce claim', command: 'kubectl get volumeattachment | grep PV' },
  ],
  match: (context) => {
    const { index, now } = context;
    const findings: Finding[] = [];
    for (const pod of index.suspects) {
      if (!waitingToStart(pod)) continue;
      const events = eventsWithReason(index, pod, 'FailedMount', 'FailedAttachVolume').filter((e) => !startFailurePassed(index, pod, e));
      if (events.length === 0) continue;
      const problems = events.map(parse);
      const byTime = (a: MountProblem, b: MountProblem): number => eventTime(b.event) - eventTime(a.event);
      // The kubelet reports the specific error and, every 2 minutes, the generic timeout that follows
      // from it; the Multi-Attach error is reported once only. The latest specific error is the cause.
      const specific = problems.filter((p) => p.cause !== 'timeout').sort(byTime);
      const main = specific[0] ?? [...problems].sort(byTime)[0]!;
      const volume = podVolume(pod, main, problems);
      const others = specific.slice(1);
      const v = verdict(context, pod, main, volume, others);

      const placed = msSincePlaced(pod, now);
      const young = placed !== undefined && placed < YOUNG_MS;
      const node = pod.spec?.nodeName;
      const evidence: string[] = [];
      const seen = new Set<string>();
      for (const problem of [main, ...[...problems].sort(byTime)]) {
        const key = `${problem.event.reason}|${problem.cause}|${problem.volume ?? ''}|${problem.object ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        evidence.push(eventEvidence(problem.event));
      }
      const involved = new Set<Volume>();
      for (const problem of [main, ...others]) {
        const vol = problem === main ? volume : podVolume(pod, problem, problems);
        if (vol) involved.add(vol);
      }
      for (const name of main.unmounted ?? []) {
        const vol = pod.spec?.volumes?.find((x) => x.name === name);
        if (vol) involved.add(vol);
      }
      evidence.push(...[...involved].map(volumeEvidence));
      for (const view of containers(pod)) {
        const reason = view.status.state?.waiting?.reason;
        if (reason) evidence.push(`${view.init ? 'init container' : 'container'} ${view.status.name}: state.waiting.reason=${reason}`);
      }
      if (placed !== undefined) evidence.push(`placed on ${node ?? '?'} ${age(placed)} before the snapshot`);

      let explanation = v.explanation;
      if (young) explanation += ` The pod was placed only ${age(placed ?? 0)} ago, so this may still resolve.`;
      const finding: Finding = {
        severity: young ? 'warning' : 'critical',
        title: `Pod ${pod.metadata.name} cannot start${placed !== undefined ? ` (${age(placed)})` : ''}: ${v.what}`,
        object: podRef(pod),
        evidence,
        explanation,
        remediation: [...v.remediation, { description: 'Read the pod\'s volumes and events', command: kubectl.describePod(pod) }],
        confidence: main.cause === 'other' ? 0.75 : main.cause === 'timeout' ? 0.8 : 0.95,
        cause: main.cause,
      };
      findings.push(finding);
    }
    return findings;
  },
};

export default rule;
