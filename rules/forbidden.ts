import type { KubeEvent, Workload } from '../src/model/k8s.js';
import type { Finding, RemediationStep, Rule, RuleContext } from '../src/model/finding.js';
import type { SnapshotIndex } from '../src/model/snapshot-index.js';
import type { AccessError } from '../src/model/snapshot.js';
import { eventEvidence, hasAllPods, msSince, templateTarget } from '../src/model/pod.js';
import { controllerOf } from '../src/model/snapshot-index.js';
import { age, firstLine, shellQuote } from '../src/model/text.js';

/** Why a request was refused: kdiag's own RBAC, or an admission step that refused a controller's pod. */
type ForbiddenCause = 'rbac' | 'read-failed' | 'quota' | 'pod-security' | 'admission';

/** API group of each resource kdiag reads (core resources have none). */
const GROUPS: Record<string, string> = {
  replicasets: 'apps',
  deployments: 'apps',
  statefulsets: 'apps',
  daemonsets: 'apps',
  jobs: 'batch',
  cronjobs: 'batch',
};

/** Cluster-scoped resources: their RBAC lives in a ClusterRole and `kubectl auth can-i` takes no -n. */
const CLUSTER_SCOPED = new Set(['nodes', 'namespaces', 'persistentvolumes', 'storageclasses']);

/** What a diagnosis loses when kdiag cannot read a resource. */
const LOSS: Record<string, string> = {
  pods: 'nothing in this scope could be diagnosed, because kdiag could not read the pods themselves',
  'pods/log': 'diagnoses of crashed containers carry no log tail',
  events: 'diagnoses lack the event evidence (probe failures, scheduling, image-pull and mount errors) and rest on status fields alone',
  nodes: 'node health (NotReady, pressure) could not be checked',
};

/** `pods`, `replicasets.apps`: how kubectl auth can-i and kubectl create role name a resource. */
function qualified(resource: string, group?: string): string {
  const g = group ?? GROUPS[resource.split('/')[0] ?? ''];
  if (!g) return resource;
  const [base, sub] = resource.split('/');
  return sub ? `${base}.${g}/${sub}` : `${base}.${g}`;
}

/** The user an API server message names (`User "system:serviceaccount:ci:kdiag" cannot list ...`). */
function userOf(message: string): string | undefined {
  return message.match(/User "([^"]+)" cannot/)?.[1];
}

/** `--serviceaccount=NS:NAME` for a service account user, `--user=NAME` otherwise. */
function subjectFlag(user: string | undefined): string {
  const sa = user?.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
  if (sa) return `--serviceaccount=${shellQuote(`${sa[1]}:${sa[2]}`)}`;
  return user ? `--user=${shellQuote(user)}` : '--user=<user>';
}

/**
 * `kubectl auth can-i` and the Role / ClusterRole (and binding) that would grant a verb on a resource.
 * `impersonate` checks as the refused user (for another identity, e.g. a controller), not as oneself.
 */
function grantSteps(verb: string, resource: string, namespace: string | null, user: string | undefined, impersonate: boolean, group?: string): RemediationStep[] {
  const res = qualified(resource, group);
  const clusterWide = CLUSTER_SCOPED.has(resource) || !namespace;
  const scope = CLUSTER_SCOPED.has(resource) ? '' : namespace ? ` -n ${shellQuote(namespace)}` : ' --all-namespaces';
  const as = impersonate && user ? ` --as=${shellQuote(user)}` : '';
  const roleName = `kdiag-read-${resource.replace(/[^a-z0-9]+/g, '-')}`;
  const verbs = verb === 'get' || verb === 'list' ? 'get,list' : verb;
  const apiGroup = group ?? GROUPS[resource.split('/')[0] ?? ''] ?? '';
  const ruleText = `{apiGroups: ["${apiGroup}"], resources: ["${resource}"], verbs: [${verbs.split(',').map((v) => `"${v}"`).join(', ')}]}`;
  const steps: RemediationStep[] = [{ description: impersonate ? `Confirm what ${user ?? 'the identity'} may do (needs impersonation rights)` : 'Confirm what you may do (as the identity kdiag ran as)', command: `kubectl auth can-i ${verb} ${res}${scope}${as}` }];
  if (clusterWide) {
    steps.push({ description: `Grant it with a ClusterRole holding the rule ${ruleText} (run by a cluster admin)`, command: `kubectl create clusterrole ${roleName} --verb=${verbs} --resource=${res}` });
    steps.push({ description: 'Bind it to the identity', command: `kubectl create clusterrolebinding ${roleName} --clusterrole=${roleName} ${subjectFlag(user)}` });
  } else {
    const ns = shellQuote(namespace ?? 'default');
    steps.push({ description: `Grant it with a Role in ${namespace} holding the rule ${ruleText} (run by an admin of the namespace)`, command: `kubectl create role ${roleName} -n ${ns} --verb=${verbs} --resource=${res}` });
    steps.push({ description: 'Bind it to the identity', command: `kubectl create rolebinding ${roleName} -n ${ns} --role=${roleName} ${subjectFlag(user)}` });
  }
  return steps;
}

/** Access errors with the same resource, verb, namespace and status, merged (a refused GET per node is one problem). */
function groupAccessErrors(errors: AccessError[]): AccessError[][] {
  const groups = new Map<string, AccessError[]>();
  for (const error of errors) {
    const key = `${error.resource}|${error.verb}|${error.namespace ?? ''}|${error.status}`;
    const list = groups.get(key);
    if (list) list.push(error);
    else groups.set(key, [error]);
  }
  return [...groups.values()];
}

function accessFinding(errors: AccessError[]): Finding {
  const first = errors[0]!;
  const { resource, verb, namespace, status } = first;
  const names = errors.map((e) => e.name).filter((n): n is string => !!n);
  const where = CLUSTER_SCOPED.has(resource) ? 'cluster scope' : namespace ? `namespace ${namespace}` : 'all namespaces';
  const whereIn = CLUSTER_SCOPED.has(resource) ? 'at the cluster scope' : `in ${where}`;
  const what = `${verb} ${resource}${names.length ? ` ${names.map((n) => `"${n}"`).join(', ')}` : ''} (${where})`;
  const evidence = [`access error: ${what}: HTTP ${status || 'no answer'}`, ...[...new Set(errors.map((e) => e.message))].slice(0, 3).map((m) => `message: ${firstLine(m)}`)];
  const loss = LOSS[resource] ?? 'pods are grouped by owner names inferred from their own metadata, and workload state is unknown';
  const user = userOf(first.message);
  const pods = resource === 'pods';
  if (status === 403) {
    return {
      severity: pods ? 'critical' : 'warning',
      title: `kdiag may not ${verb} ${resource} (${where}): 403 Forbidden`,
      object: { kind: 'Access', namespace, name: resource },
      evidence,
      explanation: `The API server refused to let ${user ? `"${user}"` : 'the identity kdiag runs as'} ${verb} ${resource} ${whereIn}: its RBAC roles do not grant it. The diagnosis went on without it, so ${loss}.`,
      remediation: grantSteps(verb, resource, CLUSTER_SCOPED.has(resource) ? null : namespace, user, false),
      confidence: 1,
      cause: 'rbac',
    };
  }
  const scope = CLUSTER_SCOPED.has(resource) ? '' : namespace ? ` -n ${shellQuote(namespace)}` : ' -A';
  return {
    severity: pods ? 'critical' : 'warning',
    title: `kdiag could not ${verb} ${resource} (${where}): ${status ? `HTTP ${status}` : 'no answer'}`,
    object: { kind: 'Access', namespace, name: resource },
    evidence,
    explanation: `Reading ${resource} ${whereIn} failed (${status ? `HTTP ${status}` : 'no answer from the API server'}), even after retries. This is not a permission problem but a failing API server, etcd or aggregated API; the diagnosis went on without it, so ${loss}.`,
    remediation: [
      { description: 'Check the API server\'s health checks', command: 'kubectl get --raw=/readyz?verbose' },
      { description: 'Retry the same read', command: `kubectl get ${qualified(resource).replace(/\/.*$/, '')}${scope}` },
    ],
    confidence: 0.8,
    cause: 'read-failed',
  };
}

/** The cause of an admission refusal in a FailedCreate message, or undefined when it is not one. */
function admissionCause(message: string): ForbiddenCause | undefined {
  if (/exceeded quota|failed quota|must specify (?:limits|requests)/i.test(message)) return 'quota';
  if (/violates PodSecurity|PodSecurityPolicy|security context constraint/i.test(message)) return 'pod-security';
  if (/User "[^"]*" cannot \S+ resource/i.test(message)) return 'rbac';
  if (/forbidden|denied the request|failed calling webhook|error looking up service account/i.test(message)) return 'admission';
  return undefined;
}

function eventVerdict(
  index: SnapshotIndex,
  cause: ForbiddenCause,
  event: KubeEvent,
  kind: string,
  namespace: string,
  name: string,
): { what: string; explanation: string; remediation: RemediationStep[] } {
  const message = event.message ?? '';
  const ns = shellQuote(namespace);
  const target = templateTarget(index, kind, namespace, name);
  const edit: RemediationStep = { description: 'Change the pod template', command: `kubectl edit ${target} -n ${ns}` };
  const creates = `${kind} ${name} cannot create its pods`;
  switch (cause) {
    case 'quota': {
      const quota = message.match(/(?:exceeded|failed) quota: ([A-Za-z0-9.-]+)/)?.[1];
      const mustSpecify = /must specify/i.test(message);
      return {
        what: mustSpecify ? `quota ${quota ?? ''} requires limits the pods do not set` : `ResourceQuota ${quota ?? ''} exceeded`,
        explanation: mustSpecify
          ? `${creates}: ResourceQuota ${quota ?? '(unnamed)'} in ${namespace} constrains resources the pod template does not set, and a quota-constrained resource must be declared by every pod. Set requests/limits on every container (or add a LimitRange with defaults).`
          : `${creates}: one more pod would take the namespace over ResourceQuota ${quota ?? '(unnamed)'} (the message gives what the pod requests, what is used and the limit). The controller keeps retrying; nothing starts until usage drops or the quota grows.`,
        remediation: [
          { description: 'See the quota\'s limits and what is used', command: quota ? `kubectl describe resourcequota ${shellQuote(quota)} -n ${ns}` : `kubectl describe resourcequota -n ${ns}` },
          { description: 'Lower what each pod requests / limits (set the values that fit)', command: `kubectl set resources ${target} -n ${ns} --requests=cpu=<cpu>,memory=<memory> --limits=memory=<memory>` },
          ...(quota ? [{ description: 'Or, if the namespace really needs more, raise the quota (its owner decides)', command: `kubectl edit resourcequota ${shellQuote(quota)} -n ${ns}` }] : []),
        ],
      };
    }
    case 'pod-security': {
      const level = message.match(/violates PodSecurity "([^"]+)"/)?.[1];
      const violations = message.replace(/^[\s\S]*?violates PodSecurity "[^"]+":\s*/, '');
      return {
        what: `pods violate PodSecurity${level ? ` "${level}"` : ''}`,
        explanation: `${creates}: the namespace enforces the ${level ?? 'pod security'} standard and the pod template breaks it (${firstLine(violations, 400)}). Fix the template's securityContext; relaxing the namespace's level weakens isolation for every pod in it.`,
        remediation: [
          { description: 'See the level the namespace enforces (pod-security.kubernetes.io/enforce)', command: `kubectl get namespace ${ns} --show-labels` },
          { ...edit, description: 'Set what the message asks for in the pod template (runAsNonRoot, allowPrivilegeEscalation: false, capabilities.drop: [ALL], seccompProfile RuntimeDefault)' },
        ],
      };
    }
    case 'rbac': {
      const denied = message.match(/User "([^"]+)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?/);
      const user = denied?.[1];
      return {
        what: `${user ?? 'the controller'} may not ${denied?.[2] ?? 'create'} ${denied?.[3] ?? 'pods'}`,
        explanation: `${creates}: the API server refused ${user ? `"${user}"` : 'the controller'} permission to ${denied?.[2] ?? 'create'} ${denied?.[3] ?? 'them'} in ${namespace}. A built-in controller's role was changed or removed, or the controller runs under a service account without the rights it needs.`,
        remediation: denied
          ? grantSteps(denied[2]!, denied[3]!, namespace, user, true, denied[4] || undefined)
          : [{ description: 'Check the controller\'s permissions', command: `kubectl auth can-i create pods -n ${ns}` }],
      };
    }
    default: {
      const sa = message.match(/error looking up service account ([^/\s]+)\/([^:\s]+)/);
      if (sa) {
        return {
          what: `service account ${sa[2]} does not exist`,
          explanation: `${creates}: the pod template runs as service account ${sa[2]}, which does not exist in ${sa[1]}, so the ServiceAccount admission plugin rejects every pod.`,
          remediation: [
            { description: 'Create the service account (with the roles it needs)', command: `kubectl create serviceaccount ${shellQuote(sa[2]!)} -n ${shellQuote(sa[1]!)}` },
            { ...edit, description: 'Or fix serviceAccountName in the pod template' },
          ],
        };
      }
      const webhook = message.match(/admission webhook "([^"]+)"|failed calling webhook "([^"]+)"/);
      if (webhook) {
        const hook = webhook[1] ?? webhook[2] ?? '';
        return {
          what: `admission webhook ${hook} refused the pods`,
          explanation: `${creates}: admission webhook ${hook} ${webhook[1] ? 'denied them (its policy message is in the evidence)' : 'could not be called, and it fails closed'}.`,
          remediation: [
            { description: 'Find the webhook configuration and the service behind it', command: 'kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations' },
            { ...edit, description: 'Change the pod template to satisfy the policy (or ask its owner for an exception)' },
          ],
        };
      }
      if (/being terminated/i.test(message)) {
        return {
          what: `namespace ${namespace} is being deleted`,
          explanation: `${creates}: namespace ${namespace} is terminating, and nothing new can be created in it.`,
          remediation: [{ description: 'See what keeps the namespace terminating (its finalizers and remaining resources)', command: `kubectl get namespace ${ns} -o jsonpath='{.status}'` }],
        };
      }
      if (/usage per (?:Container|Pod)|LimitRange/i.test(message)) {
        return {
          what: 'pods break the namespace\'s LimitRange',
          explanation: `${creates}: the requests or limits in the template are outside what the namespace's LimitRange allows.`,
          remediation: [{ description: 'See the LimitRange bounds', command: `kubectl describe limitrange -n ${ns}` }, { ...edit, description: 'Bring the template\'s requests and limits within them' }],
        };
      }
      return {
        what: 'an admission check refused the pods',
        explanation: `${creates}: the API server refused them at admission (${firstLine(message, 300)}).`,
        remediation: [{ description: 'Read the workload\'s events', command: `kubectl describe ${kind.toLowerCase()} ${shellQuote(name)} -n ${ns}` }],
      };
    }
  }
}

/** A FailedCreate event refused at admission, about a workload that still lacks pods. */
interface RefusedCreate {
  event: KubeEvent;
  kind: string;
  namespace: string;
  name: string;
  cause: ForbiddenCause;
  /** The workload the event is about, when the snapshot holds it. */
  workload: Workload | undefined;
}

/** The FailedCreate events match reports on (what retain keeps of a namespace, with their workloads). */
function refusedCreates({ snapshot, index }: Pick<RuleContext, 'snapshot' | 'index'>): RefusedCreate[] {
  const refused: RefusedCreate[] = [];
  for (const event of snapshot.events) {
    if (event.reason !== 'FailedCreate') continue;
    const cause = admissionCause(event.message ?? '');
    const { kind, name } = event.involvedObject;
    const namespace = event.involvedObject.namespace ?? event.metadata.namespace;
    if (!cause || !kind || !name || !namespace) continue;
    if (hasAllPods(index, kind, namespace, name)) continue;
    refused.push({ event, kind, namespace, name, cause, workload: index.workload(kind, namespace, name) });
  }
  return refused;
}

/**
 * Requests refused by the API server: kdiag's own reads (access errors, 403 Forbidden and other
 * failures), and pods a workload controller could not create because admission refused them
 * (FailedCreate: quota, PodSecurity, a missing service account, a webhook, RBAC).
 */
const rule: Rule = {
  id: 'forbidden',
  title: 'Request forbidden: reads kdiag was refused, or pods a controller may not create',
  severity: 'warning',
  description:
    'Two kinds of refusals. kdiag\'s own reads: without permission to read pods, events, nodes, logs or workloads the diagnosis is partial (nothing at all without pods). And pods a ReplicaSet, Job, StatefulSet or DaemonSet controller cannot create: the API server refused them at admission (a ResourceQuota, the namespace\'s PodSecurity level, a missing service account, a webhook, RBAC), so the workload runs fewer pods than it wants, or none, and no pod exists to show why.',
  detection:
    'snapshot.accessErrors: status 403 (RBAC) and other failed reads (500, no answer), one finding per resource, verb, namespace and status; critical when the pods could not be read. Events FailedCreate (replicaset-controller, job-controller, statefulset-controller, daemonset-controller, cronjob-controller) whose message says "is forbidden" (exceeded quota, violates PodSecurity, error looking up service account, cannot create resource), or that a webhook denied the request, on a workload that still lacks pods.',
  remediation: [
    { description: 'Check what the identity may do', command: 'kubectl auth can-i list pods -n NAMESPACE' },
    { description: 'Grant the read with a Role (namespaced resources) or a ClusterRole (nodes) and a binding' },
    { description: 'Quota: see the quota\'s use and limits, lower requests or raise it', command: 'kubectl describe resourcequota -n NAMESPACE' },
    { description: 'PodSecurity: set the securityContext the namespace\'s level requires in the pod template' },
  ],
  // Refused reads are the whole sweep's; the FailedCreate events match reads are kept with the
  // workload they are about.
  scope: 'cluster',
  retain: (context) => {
    const refused = refusedCreates(context);
    const owners = new Set<Workload>();
    for (const { workload } of refused) if (workload) owners.add(workload);
    return { events: refused.map(({ event }) => event), owners };
  },
  match: ({ snapshot, index, now }) => {
    const findings: Finding[] = groupAccessErrors(snapshot.accessErrors).map(accessFinding);

    // FailedCreate events, grouped per workload and cause; the newest message speaks for its group.
    const groups = new Map<string, { kind: string; namespace: string; name: string; cause: ForbiddenCause; events: KubeEvent[] }>();
    for (const { event, kind, namespace, name, cause } of refusedCreates({ snapshot, index })) {
      const key = `${kind}/${namespace}/${name}/${cause}`;
      const group = groups.get(key);
      if (group) group.events.push(event);
      else groups.set(key, { kind, namespace, name, cause, events: [event] });
    }
    for (const { kind, namespace, name, cause, events } of groups.values()) {
      const sorted = index.eventsFor(kind, namespace, name).filter((e) => events.includes(e));
      const latest = sorted[sorted.length - 1] ?? events[events.length - 1]!;
      const v = eventVerdict(index, cause, latest, kind, namespace, name);
      const evidence = sorted.slice(-3).map(eventEvidence);
      const last = msSince(latest.lastTimestamp ?? latest.eventTime ?? latest.firstTimestamp, now);
      if (last !== undefined) evidence.push(`last refused ${age(last)} before the snapshot`);
      const workload = index.workload(kind, namespace, name);
      if (workload?.spec?.replicas !== undefined) evidence.push(`${kind} ${name}: ${workload.status?.replicas ?? 0} of ${workload.spec.replicas} pods created`);
      const owner = controllerOf(workload?.metadata.ownerReferences);
      if (owner) evidence.push(`owned by ${owner.kind} ${owner.name}`);
      findings.push({
        severity: 'warning',
        title: `${kind} ${name} cannot create pods: ${v.what}`,
        object: { kind, namespace, name },
        evidence,
        explanation: v.explanation,
        remediation: v.remediation,
        confidence: cause === 'admission' ? 0.85 : 0.95,
        cause,
      });
    }
    return findings;
  },
};

export default rule;
