import type { KubeEvent, Workload } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, Severity } from '../src/model/finding.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import { eventEvidence, hasAllPods, msSince, parseQuantity, templateTarget } from '../src/model/pod.js';
import { controllerOf } from '../src/model/snapshot-index.js';
import { age, firstLine, shellQuote } from '../src/model/text.js';

/** Why the API server refused the controller's pods. */
type FailedCreateCause = 'quota' | 'pod-security' | 'missing-service-account' | 'webhook' | 'limit-range' | 'other';

/** The workload kinds whose controllers create pods, and the controller that reports for each. */
const CONTROLLERS: Record<string, string> = {
  ReplicaSet: 'replicaset-controller',
  StatefulSet: 'statefulset-controller',
  Job: 'job-controller',
  DaemonSet: 'daemonset-controller',
};

/**
 * The API server's refusal inside a FailedCreate message. Pod controllers write `Error creating: ERR`;
 * the StatefulSet controller writes `create Pod web-0 in StatefulSet web failed error: ERR` (and
 * `create Claim ... for Pod ...` when it is the volume claim that was refused). After ten similar events the
 * event recorder prefixes its combined event with `(combined from similar events): `.
 */
function refusalOf(message: string): string {
  return message
    .replace(/^\(combined from similar events\): /, '')
    .replace(/^Error creating: /, '')
    .replace(/^create (?:Pod \S+|Claim \S+ for Pod \S+) in StatefulSet \S+ failed error: /, '');
}

/** The cause of a refusal. A webhook's own message may quote anything, so it is recognised first. */
function causeOf(refusal: string): FailedCreateCause {
  if (/failed calling webhook|admission webhook "[^"]*" denied the request/i.test(refusal)) return 'webhook';
  if (/exceeded quota:|failed quota:|must specify (?:limits|requests)/i.test(refusal)) return 'quota';
  if (/violates PodSecurity|PodSecurityPolicy|unable to validate against any (?:pod )?security/i.test(refusal)) return 'pod-security';
  if (/error looking up service account|serviceaccount "[^"]*" not found/i.test(refusal)) return 'missing-service-account';
  if (/(?:maximum|minimum) \S+ usage per (?:Container|Pod) is|max limit to request ratio per (?:Container|Pod)/i.test(refusal)) return 'limit-range';
  return 'other';
}

/** `2Gi`, `1536Mi`, `3500m`: a quantity in base units written back the way Kubernetes would. */
function formatQuantity(value: number, resource: string): string {
  if (/cpu/.test(resource)) return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
  if (/memory|storage/.test(resource)) {
    for (const [suffix, factor] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
      if (value >= factor && Number.isInteger(value / factor)) return `${value / factor}${suffix}`;
    }
  }
  return String(value);
}

/** `limits.memory=2Gi,requests.cpu=1` as a map. */
function resourceList(text: string): Map<string, string> {
  return new Map(
    text
      .split(',')
      .map((pair) => pair.split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && !!kv[0] && !!kv[1])
      .map(([k, v]) => [k.trim(), v.trim()]),
  );
}

/** One line per resource the quota refused: what one pod asks for, what is used, the limit, what is left. */
interface QuotaShortfall {
  resource: string;
  requested: string;
  used: string;
  limited: string;
  left?: string;
}

function quotaShortfalls(refusal: string): QuotaShortfall[] {
  // Quota admission: "exceeded quota: NAME, requested: R=V[,..], used: R=V[,..], limited: R=V[,..]" (sorted by resource).
  const m = refusal.match(/exceeded quota: [^,]+, requested: (\S+), used: (\S+), limited: (\S+?)(?:$|\s)/);
  if (!m) return [];
  const [requested, used, limited] = [resourceList(m[1]!), resourceList(m[2]!), resourceList(m[3]!)];
  return [...requested.entries()].map(([resource, value]) => {
    const shortfall: QuotaShortfall = { resource, requested: value, used: used.get(resource) ?? '?', limited: limited.get(resource) ?? '?' };
    const hard = parseQuantity(shortfall.limited);
    const inUse = parseQuantity(shortfall.used);
    if (hard !== undefined && inUse !== undefined) shortfall.left = formatQuantity(Math.max(0, hard - inUse), resource);
    return shortfall;
  });
}

/** `kubectl set resources` flags for the resources a quota or LimitRange refused (`--limits=memory=<value>`). */
function resourceFlags(resources: string[], values: Map<string, string> = new Map()): string {
  const flags: Record<'requests' | 'limits', string[]> = { requests: [], limits: [] };
  for (const resource of resources) {
    const m = resource.match(/^(requests|limits)\.(.+)$/) ?? (/^(?:cpu|memory|ephemeral-storage)$/.test(resource) ? [resource, 'requests', resource] : null);
    if (!m) continue;
    flags[m[1] as 'requests' | 'limits'].push(`${m[2]}=${values.get(resource) ?? '<value>'}`);
  }
  return (['requests', 'limits'] as const)
    .filter((k) => flags[k].length)
    .map((k) => `--${k}=${flags[k].join(',')}`)
    .join(' ');
}

/**
 * Violations in a PodSecurity refusal: `violates PodSecurity "restricted:latest": A (detail), B (detail)`,
 * split on the commas between checks (not those inside a check's parentheses).
 */
function podSecurityViolations(refusal: string): string[] {
  const list = refusal.replace(/^[\s\S]*?violates PodSecurity "[^"]*":\s*/, '');
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      if (current.trim()) items.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

/**
 * What the PodSecurity violations ask to change, per container: `container "web": set
 * securityContext.runAsNonRoot=true, securityContext.capabilities.drop=["ALL"]`. Checks without a
 * "must set" (hostPath volumes, host namespaces) are quoted as they are.
 */
function podSecurityFixes(violations: string[]): string[] {
  const byContainer = new Map<string, string[]>();
  const other: string[] = [];
  for (const violation of violations) {
    const m = violation.match(/\((?:pod or )?containers? ((?:"[^"]+"(?:, )?)+) must (not )?(?:set|include) (.+)\)$/);
    if (!m) {
      other.push(violation);
      continue;
    }
    const list = byContainer.get(m[1]!) ?? [];
    list.push(`${m[2] ? 'not ' : ''}${m[3]}`);
    byContainer.set(m[1]!, list);
  }
  return [...[...byContainer].map(([who, fixes]) => `for container ${who} set ${fixes.join(', ')}`), ...other.map((v) => `fix ${v}`)];
}

/** The workload's pods, in numbers: `3 of 4 pods created`; and whether it has none at all. */
function progress(workload: Workload | undefined, kind: string): { text?: string; none: boolean } {
  const status = workload?.status;
  const spec = workload?.spec;
  if (!workload) return { none: true };
  if (kind === 'DaemonSet') {
    const current = status?.currentNumberScheduled ?? 0;
    return { text: `${current} of ${status?.desiredNumberScheduled ?? '?'} nodes have its pod`, none: current === 0 };
  }
  if (kind === 'Job') {
    const active = status?.active ?? 0;
    return { text: `${active} pod${active === 1 ? '' : 's'} active (parallelism ${spec?.parallelism ?? 1}), ${status?.succeeded ?? 0} succeeded, ${status?.failed ?? 0} failed`, none: active === 0 };
  }
  const have = status?.replicas ?? 0;
  return { text: `${have} of ${spec?.replicas ?? '?'} pods created`, none: have === 0 };
}

/** The template's container names (for `-c NAME` when there is exactly one). */
function containerNames(workload: Workload | undefined): string[] {
  return workload?.spec?.template?.spec?.containers?.map((c) => c.name) ?? [];
}

/**
 * How to change the pod template: a ReplicaSet's through its Deployment, a Job's through its CronJob
 * (for the next runs). A Job's own template is immutable, so it is saved, fixed and recreated.
 */
function templateStep(index: SnapshotIndex, kind: string, namespace: string, name: string, what: string): RemediationStep {
  const ns = shellQuote(namespace);
  const owner = controllerOf(index.workload(kind, namespace, name)?.metadata.ownerReferences);
  if (kind === 'Job' && owner?.kind === 'CronJob') {
    return { description: `${what} in CronJob ${owner.name}'s job template (the next runs get it; delete Job ${name} to stop this run)`, command: `kubectl edit cronjob/${owner.name} -n ${ns}` };
  }
  if (kind === 'Job') {
    return { description: `${what}: a Job's pod template cannot be changed, so save the Job, fix the file, and recreate it`, command: `kubectl get job ${name} -n ${ns} -o yaml > ${name}.yaml && kubectl replace --force -f ${name}.yaml` };
  }
  return { description: `${what} in the pod template`, command: `kubectl edit ${templateTarget(index, kind, namespace, name)} -n ${ns}` };
}

/** `kubectl set resources` for workloads whose template may change; the template step for a Job. */
function resourcesStep(index: SnapshotIndex, kind: string, namespace: string, name: string, flags: string, what: string): RemediationStep {
  if (kind === 'Job' || !flags) return templateStep(index, kind, namespace, name, what);
  const names = containerNames(index.workload(kind, namespace, name));
  const container = names.length === 1 ? ` -c ${names[0]}` : '';
  return { description: what, command: `kubectl set resources ${templateTarget(index, kind, namespace, name)} -n ${shellQuote(namespace)}${container} ${flags}` };
}

/** The step that shows the fix took: the controller creates the pods on its next retry. */
function watchStep(index: SnapshotIndex, kind: string, namespace: string, name: string): RemediationStep {
  const target = templateTarget(index, kind, namespace, name);
  const ns = shellQuote(namespace);
  if (/^(deployment|statefulset|daemonset)\//.test(target)) return { description: 'After the fix, watch the controller create the pods (it retries with back-off)', command: `kubectl rollout status ${target} -n ${ns}` };
  if (kind === 'Job') return { description: 'After the fix, watch the Job\'s pods appear', command: `kubectl get pods -n ${ns} -l job-name=${name} -w` };
  return { description: 'After the fix, check that the refusals stop', command: `kubectl get events -n ${ns} --field-selector involvedObject.name=${name},reason=FailedCreate` };
}

interface Verdict {
  what: string;
  explanation: string;
  evidence: string[];
  remediation: RemediationStep[];
}

function verdict(index: SnapshotIndex, cause: FailedCreateCause, refusal: string, kind: string, namespace: string, name: string): Verdict {
  const ns = shellQuote(namespace);
  const creates = `${kind} ${name} cannot create its pods`;
  switch (cause) {
    case 'quota': {
      const quota = refusal.match(/(?:exceeded|failed) quota: ([A-Za-z0-9.-]+)/)?.[1];
      const quotaName = quota ? `ResourceQuota ${quota}` : 'a ResourceQuota';
      const inspect: RemediationStep[] = [
        { description: `See every quota in ${namespace}: its hard limits and what is used`, command: `kubectl describe quota -n ${ns}` },
        ...(quota ? [{ description: `Read ${quotaName} itself (its hard limits and scopes)`, command: `kubectl get resourcequota ${shellQuote(quota)} -n ${ns} -o yaml` }] : []),
      ];
      const missing = refusal.match(/must specify ([^\n]+)$/)?.[1];
      if (missing) {
        // Newer servers: "must specify limits.cpu for: web; limits.memory for: web"; older ones list the resources.
        const resources = [...new Set(missing.split(/[;,]\s*/).map((part) => part.replace(/ for: .*$/, '').trim()).filter((r) => /^(?:requests|limits)\./.test(r)))];
        return {
          what: `${quotaName} requires ${resources.join(', ') || 'requests/limits'} on every container`,
          explanation: `${creates}: ${quotaName} in ${namespace} constrains ${resources.join(', ') || 'compute resources'}, and when a quota tracks a resource every new pod must declare it. The pod template does not, so quota admission rejects each pod.`,
          evidence: [`quota ${quota ?? '?'} wants: ${firstLine(missing, 200)}`],
          remediation: [
            ...inspect,
            resourcesStep(index, kind, namespace, name, resourceFlags(resources), `Set ${resources.join(', ') || 'the missing requests/limits'} on every container`),
            { description: 'Or give the namespace defaults with a LimitRange (see what it has now)', command: `kubectl describe limitrange -n ${ns}` },
            watchStep(index, kind, namespace, name),
          ],
        };
      }
      const shortfalls = quotaShortfalls(refusal);
      const worded = shortfalls.map((s) => `${s.resource}: a pod asks for ${s.requested}, ${s.used} of ${s.limited} is used${s.left !== undefined ? ` (${s.left} left)` : ''}`);
      return {
        what: `${quotaName} exceeded${shortfalls.length ? ` (${shortfalls.map((s) => s.resource).join(', ')})` : ''}`,
        explanation: `${creates}: one more pod would take namespace ${namespace} over ${quotaName}${worded.length ? ` (${worded.join('; ')})` : ''}. The controller retries with back-off, and no pod starts until usage drops, each pod asks for less, or the quota grows.`,
        evidence: worded.map((line) => `quota ${quota ?? '?'}: ${line}`),
        remediation: [
          ...inspect,
          resourcesStep(
            index,
            kind,
            namespace,
            name,
            resourceFlags(shortfalls.map((s) => s.resource)),
            shortfalls.length
              ? `Lower each pod's ${shortfalls.map((s) => `${s.resource} (${s.requested} now)`).join(' and ')} to what it really needs`
              : 'Lower what each pod requests and limits to what it really needs',
          ),
          ...(quota ? [{ description: 'Or, if the namespace really needs more, raise the quota (its owner decides)', command: `kubectl edit resourcequota ${shellQuote(quota)} -n ${ns}` }] : []),
          watchStep(index, kind, namespace, name),
        ],
      };
    }
    case 'pod-security': {
      const level = refusal.match(/violates PodSecurity "([^"]+)"/)?.[1];
      const violations = level ? podSecurityViolations(refusal) : [];
      const fixes = podSecurityFixes(violations);
      return {
        what: `pods violate PodSecurity${level ? ` "${level}"` : ''}${violations.length ? ` (${violations.length} check${violations.length === 1 ? '' : 's'})` : ''}`,
        explanation: `${creates}: namespace ${namespace} enforces the ${level ? `"${level}"` : 'pod security'} standard and the pod template breaks it${violations.length ? ` in ${violations.length} place${violations.length === 1 ? '' : 's'}` : ''}, so admission rejects every pod. Fix the template's securityContext; lowering the namespace's level would weaken isolation for every pod in it.`,
        evidence: violations.slice(0, 6).map((v) => `PodSecurity check failed: ${firstLine(v, 200)}`),
        remediation: [
          templateStep(index, kind, namespace, name, fixes.length ? `${fixes.join('; ').replace(/^./, (c) => c.toUpperCase())}` : 'Set what the message asks for (runAsNonRoot, allowPrivilegeEscalation: false, capabilities.drop: ["ALL"], seccompProfile RuntimeDefault)'),
          { description: `See the level ${namespace} enforces (label pod-security.kubernetes.io/enforce)`, command: `kubectl get namespace ${ns} --show-labels` },
          watchStep(index, kind, namespace, name),
        ],
      };
    }
    case 'missing-service-account': {
      const sa = refusal.match(/error looking up service account ([^/\s]+)\/([^:\s]+)/) ?? refusal.match(/serviceaccount "([^"]+)" not found/);
      const account = sa?.length === 3 ? sa[2]! : sa?.[1];
      const saNamespace = sa?.length === 3 ? sa[1]! : namespace;
      const saNs = shellQuote(saNamespace);
      return {
        what: `service account ${account ?? '(unnamed)'} does not exist`,
        explanation: `${creates}: the pod template runs as service account ${account ?? '(unnamed)'}, which does not exist in ${saNamespace}, so the ServiceAccount admission plugin rejects every pod. It is usually created by another manifest or chart that was not applied, or was deleted.`,
        evidence: [],
        remediation: [
          ...(account ? [{ description: 'Create the service account (then bind the roles the workload needs to it)', command: `kubectl create serviceaccount ${shellQuote(account)} -n ${saNs}` }] : []),
          { description: `Or check the name: the service accounts in ${saNamespace}`, command: `kubectl get serviceaccounts -n ${saNs}` },
          templateStep(index, kind, namespace, name, 'Or fix serviceAccountName'),
          watchStep(index, kind, namespace, name),
        ],
      };
    }
    case 'webhook': {
      const denied = refusal.match(/admission webhook "([^"]+)" denied the request:?\s*([\s\S]*)$/);
      const failed = refusal.match(/failed calling webhook "([^"]+)":\s*([\s\S]*)$/);
      const hook = denied?.[1] ?? failed?.[1] ?? '?';
      const find: RemediationStep = { description: `Find the configuration that holds webhook ${hook} (its failurePolicy and service)`, command: 'kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations' };
      if (denied) {
        const policy = firstLine(denied[2], 300);
        return {
          what: `admission webhook ${hook} denied them`,
          explanation: `${creates}: admission webhook ${hook} rejects the pod template${policy ? `: "${policy}"` : ''}. The policy behind the webhook decides; change the template to satisfy it, or ask the policy's owner for an exception.`,
          evidence: policy ? [`webhook ${hook} said: ${policy}`] : [],
          remediation: [templateStep(index, kind, namespace, name, 'Change what the policy objects to'), find, watchStep(index, kind, namespace, name)],
        };
      }
      const detail = failed?.[2] ?? '';
      const service = detail.match(/"https:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc[^"]*"/) ?? detail.match(/service "([a-z0-9-]+)"/);
      const svc = service?.[1];
      const svcNs = service?.[2];
      const why = /connection refused/.test(detail)
        ? 'nothing listens behind its service (connection refused)'
        : /no endpoints available/.test(detail)
          ? 'its service has no ready endpoints'
          : /deadline exceeded|timeout/i.test(detail)
            ? 'it did not answer in time'
            : /x509|certificate/i.test(detail)
              ? 'its TLS certificate is not trusted (caBundle)'
              : 'the call failed';
      return {
        what: `admission webhook ${hook} cannot be called`,
        explanation: `${creates}: the API server must call admission webhook ${hook} for every new pod, and ${why}. The webhook fails closed (failurePolicy: Fail), so every pod is rejected until its service answers, including pods that would restore the webhook itself when they are in its scope.`,
        evidence: [`webhook ${hook}: ${firstLine(detail, 250)}`],
        remediation: [
          ...(svc && svcNs
            ? [
                { description: `Check the webhook's service and its endpoints (${svc} in ${svcNs})`, command: `kubectl describe service ${svc} -n ${svcNs}` },
                { description: 'And the pods behind it', command: `kubectl get pods -n ${svcNs} -o wide` },
              ]
            : []),
          find,
          watchStep(index, kind, namespace, name),
        ],
      };
    }
    case 'limit-range': {
      const bound = refusal.match(/(maximum|minimum) (\S+) usage per (Container|Pod) is (\S+), but (limit|request) is (\S+?)\.?(?:,|$|\s|\])/);
      const ratio = refusal.match(/(\S+) max limit to request ratio per (Container|Pod) is (\S+), but provided ratio is (\S+)/);
      const resource = bound?.[2] ?? ratio?.[1];
      const field = bound ? `${bound[5] === 'limit' ? 'limits' : 'requests'}.${bound[2]}` : undefined;
      const what = bound
        ? `${bound[2]} ${bound[5]} ${bound[6]} is ${bound[1] === 'maximum' ? 'above' : 'below'} the LimitRange ${bound[1]} of ${bound[4]} per ${bound[3]}`
        : ratio
          ? `${ratio[1]} limit/request ratio ${ratio[4]} is above the LimitRange maximum of ${ratio[3]}`
          : 'pods break the namespace\'s LimitRange';
      return {
        what,
        explanation: `${creates}: the LimitRange in ${namespace} bounds what each ${bound?.[3] ?? ratio?.[2] ?? 'container'} may request or limit, and the pod template is outside it (${what}).`,
        evidence: [`LimitRange: ${what}`],
        remediation: [
          { description: `See the LimitRange bounds in ${namespace}`, command: `kubectl describe limitrange -n ${ns}` },
          resourcesStep(
            index,
            kind,
            namespace,
            name,
            field ? resourceFlags([field], new Map([[field, bound![4]!]])) : '',
            `Bring the template's ${resource ?? 'requests and limits'} within the range${bound ? ` (${bound[1] === 'maximum' ? 'at most' : 'at least'} ${bound[4]})` : ''}`,
          ),
          { description: 'Or, if the workload really needs it, change the LimitRange (the namespace owner decides)', command: `kubectl get limitrange -n ${ns} -o yaml` },
          watchStep(index, kind, namespace, name),
        ],
      };
    }
    default: {
      const describe: RemediationStep = { description: `Read the ${kind}'s events`, command: `kubectl describe ${kind.toLowerCase()} ${name} -n ${ns}` };
      const priority = refusal.match(/no PriorityClass with name (\S+) was found/i);
      if (priority) {
        return {
          what: `PriorityClass ${priority[1]} does not exist`,
          explanation: `${creates}: the pod template asks for priorityClassName ${priority[1]}, which does not exist in the cluster, so the Priority admission plugin rejects every pod.`,
          evidence: [],
          remediation: [
            { description: 'See the PriorityClasses that exist', command: 'kubectl get priorityclasses' },
            templateStep(index, kind, namespace, name, 'Fix priorityClassName (or create the PriorityClass)'),
            watchStep(index, kind, namespace, name),
          ],
        };
      }
      if (/because it is being terminated/i.test(refusal)) {
        return {
          what: `namespace ${namespace} is being deleted`,
          explanation: `${creates}: namespace ${namespace} is terminating, and nothing new can be created in it.`,
          evidence: [],
          remediation: [{ description: 'See what keeps the namespace terminating (its conditions and finalizers)', command: `kubectl get namespace ${ns} -o jsonpath='{.status}'` }, describe],
        };
      }
      const rbac = refusal.match(/User "([^"]+)" cannot create resource "([^"]+)"/);
      if (rbac) {
        return {
          what: `${rbac[1]} may not create ${rbac[2]}`,
          explanation: `${creates}: the API server refused "${rbac[1]}" permission to create ${rbac[2]} in ${namespace}. The controller's role was changed or removed.`,
          evidence: [],
          remediation: [{ description: 'Check the controller\'s permission (needs impersonation rights)', command: `kubectl auth can-i create ${rbac[2]} -n ${ns} --as=${shellQuote(rbac[1]!)}` }, describe],
        };
      }
      return {
        what: firstLine(refusal, 100),
        explanation: `${creates}: the API server refused them (${firstLine(refusal, 300)}).`,
        evidence: [],
        remediation: [describe, watchStep(index, kind, namespace, name)],
      };
    }
  }
}

/**
 * A ReplicaSet, StatefulSet, Job or DaemonSet whose controller cannot create pods: the API server
 * refuses them at admission. No pod exists to carry the error, so `kubectl get pods` shows nothing
 * and only the workload's FailedCreate events say why.
 */
const rule: Rule = {
  id: 'failed-create',
  title: 'Workload cannot create its pods (FailedCreate)',
  severity: 'critical',
  description:
    'A ReplicaSet, StatefulSet, Job or DaemonSet controller keeps failing to create pods because the API server refuses them: a ResourceQuota would be exceeded (or requires requests/limits the template does not set), the namespace\'s PodSecurity level rejects the template, its service account does not exist, an admission webhook denies the pods or cannot be called, or a LimitRange bounds the requests. No pod exists to show an error, so a Deployment simply has fewer pods than it wants, or none.',
  detection:
    'Events with reason FailedCreate on a ReplicaSet, StatefulSet, Job or DaemonSet (from replicaset-controller, statefulset-controller, job-controller, daemonset-controller): "Error creating: ..." and "create Pod NAME in StatefulSet NAME failed error: ...". The newest refusal gives the cause (exceeded quota / must specify, violates PodSecurity, error looking up service account, failed calling webhook / admission webhook denied the request, maximum/minimum usage per Container). Workloads that now have all the pods they want (status.replicas, currentNumberScheduled, a complete or fully active Job) are skipped as history. Critical when the workload has no pod at all, a warning when it runs fewer than it wants.',
  supersedes: ['forbidden'],
  remediation: [
    { description: 'Read the refusal in the workload\'s events', command: 'kubectl describe replicaset NAME -n NAMESPACE' },
    { description: 'Quota: see what is used and the hard limits; lower requests/limits or raise the quota', command: 'kubectl describe quota -n NAMESPACE' },
    { description: 'PodSecurity: set the securityContext fields the message lists in the pod template (runAsNonRoot, allowPrivilegeEscalation: false, capabilities.drop: ["ALL"], seccompProfile RuntimeDefault)' },
    { description: 'Missing service account: create it, or fix serviceAccountName', command: 'kubectl create serviceaccount NAME -n NAMESPACE' },
    { description: 'Webhook: find the webhook and check the service behind it', command: 'kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations' },
    { description: 'LimitRange: bring requests and limits within its bounds', command: 'kubectl describe limitrange -n NAMESPACE' },
  ],
  match: ({ snapshot, index, now }) => {
    // FailedCreate events per workload; the newest refusal speaks for it.
    const groups = new Map<string, { kind: string; namespace: string; name: string; events: KubeEvent[] }>();
    for (const event of snapshot.events) {
      if (event.reason !== 'FailedCreate') continue;
      const { kind, name } = event.involvedObject;
      const namespace = event.involvedObject.namespace ?? event.metadata.namespace;
      if (!kind || !CONTROLLERS[kind] || !name || !namespace) continue;
      if (hasAllPods(index, kind, namespace, name)) continue;
      const key = `${kind}/${namespace}/${name}`;
      const group = groups.get(key);
      if (group) group.events.push(event);
      else groups.set(key, { kind, namespace, name, events: [event] });
    }

    const findings: Finding[] = [];
    for (const { kind, namespace, name, events } of groups.values()) {
      const sorted = index.eventsFor(kind, namespace, name).filter((e) => events.includes(e));
      const latest = sorted[sorted.length - 1] ?? events[events.length - 1]!;
      const refusal = refusalOf(latest.message ?? '');
      const cause = causeOf(refusal);
      const workload = index.workload(kind, namespace, name);
      const v = verdict(index, cause, refusal, kind, namespace, name);
      const { text: count, none } = progress(workload, kind);
      const owner = controllerOf(workload?.metadata.ownerReferences);

      // The newest refusal, and the newest one of each other cause (an earlier problem may still be there).
      const shown = [latest, ...[...new Map(sorted.map((e) => [causeOf(refusalOf(e.message ?? '')), e])).values()].filter((e) => e !== latest)].slice(0, 3).reverse();
      const evidence = shown.map(eventEvidence);
      const last = msSince(latest.lastTimestamp ?? latest.eventTime ?? latest.firstTimestamp, now);
      if (last !== undefined) evidence.push(`last refused ${age(last)} before the snapshot`);
      evidence.push(...v.evidence);
      if (count) evidence.push(`${kind} ${name}: ${count}`);
      else evidence.push(`${kind} ${name} itself is not in the snapshot: how many pods it has is unknown`);
      if (owner) evidence.push(`owned by ${owner.kind} ${owner.name}`);

      const severity: Severity = none ? 'critical' : 'warning';
      const whose = owner && kind === 'ReplicaSet' && owner.kind === 'Deployment' ? ` (Deployment ${owner.name})` : owner && kind === 'Job' && owner.kind === 'CronJob' ? ` (CronJob ${owner.name})` : '';
      findings.push({
        severity,
        title: `${kind} ${name}${whose} cannot create ${none ? 'any pod' : 'all its pods'}: ${v.what}`,
        object: { kind, namespace, name },
        evidence,
        explanation: `${v.explanation}${none ? '' : ` It runs fewer pods than it wants (${count}).`}`,
        remediation: v.remediation,
        confidence: (cause === 'other' ? 0.8 : 0.95) - (workload ? 0 : 0.1),
        cause,
      });
    }
    return findings;
  },
};

export default rule;
