/**
 * A deterministic synthetic cluster for the benchmark. Objects are made on demand from their index
 * (nothing is held), so a 50k-pod cluster costs no memory until a page of it is served. Pods look
 * like real ones (managedFields, env, probes, projected service-account volume: 3-6 KB of JSON),
 * and a mix of workloads fail: OOMKilled crash loops, exit 1 restarts, ImagePullBackOff, Pending
 * unschedulable pods, and one NotReady node.
 */

export type Raw = Record<string, unknown>;

export interface ClusterSpec {
  /** Namespaces, each with podsPerNamespace pods. */
  namespaces: string[];
  podsPerNamespace: number;
  nodes: number;
  eventsPerPod: number;
  /** Timestamps are relative to this (epoch ms), so rules see recent events. */
  now: number;
}

/** Pods per workload (a Deployment's replicas, a StatefulSet's ordinals, a Job's completions). */
const GROUP = 10;

export type Failure = 'oom' | 'exit1' | 'imagepull' | 'pending' | 'none';
type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job';

/** A small, fast, seedable PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function hex(random: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

function uid(seed: string): string {
  const r = prng(hash(seed));
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
function suffix(seed: string, n: number): string {
  const r = prng(hash(seed));
  let out = '';
  for (let i = 0; i < n; i++) out += ALNUM[Math.floor(r() * ALNUM.length)];
  return out;
}

const APPS = ['api', 'web', 'worker', 'cart', 'search', 'auth', 'billing', 'ledger', 'mailer', 'thumbs', 'feed', 'gateway'];

/** Where pod `i` of a namespace sits: its workload and its failure mode. */
export interface PodPlace {
  namespace: string;
  /** Index of the pod in its namespace. */
  index: number;
  group: number;
  ordinal: number;
  kind: WorkloadKind;
  workload: string;
  failure: Failure;
}

export class SyntheticCluster {
  readonly totalPods: number;
  private readonly iso: (offsetSeconds: number) => string;

  constructor(readonly spec: ClusterSpec) {
    this.totalPods = spec.namespaces.length * spec.podsPerNamespace;
    const base = Math.floor(spec.now / 1000) * 1000;
    this.iso = (offsetSeconds) => new Date(base - offsetSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** The workload kind of group g: mostly Deployments, some StatefulSets and Jobs. */
  private kindOf(group: number): WorkloadKind {
    if (group % 20 === 7) return 'StatefulSet';
    if (group % 50 === 13) return 'Job';
    return 'Deployment';
  }

  private failureOf(group: number, kind: WorkloadKind): Failure {
    if (kind === 'Job') return 'none';
    if (group % 25 === 3) return 'oom';
    if (group % 25 === 8) return 'exit1';
    if (group % 40 === 11) return 'imagepull';
    if (group % 40 === 21) return 'pending';
    return 'none';
  }

  workloadName(namespace: string, group: number): string {
    return `${APPS[group % APPS.length]}-${String(group).padStart(4, '0')}`;
  }

  place(namespaceIndex: number, index: number): PodPlace {
    const namespace = this.spec.namespaces[namespaceIndex]!;
    const group = Math.floor(index / GROUP);
    const kind = this.kindOf(group);
    return { namespace, index, group, ordinal: index % GROUP, kind, workload: this.workloadName(namespace, group), failure: this.failureOf(group, kind) };
  }

  /** Pod `i` of the whole cluster (namespace-major order). */
  placeGlobal(i: number): PodPlace {
    return this.place(Math.floor(i / this.spec.podsPerNamespace), i % this.spec.podsPerNamespace);
  }

  groups(): number {
    return Math.ceil(this.spec.podsPerNamespace / GROUP);
  }

  rsHash(namespace: string, group: number): string {
    return suffix(`rs/${namespace}/${group}`, 10);
  }

  podName(p: PodPlace): string {
    if (p.kind === 'StatefulSet') return `${p.workload}-${p.ordinal}`;
    if (p.kind === 'Job') return `${p.workload}-29${String(p.group).padStart(6, '0')}-${suffix(`pod/${p.namespace}/${p.index}`, 5)}`;
    return `${p.workload}-${this.rsHash(p.namespace, p.group)}-${suffix(`pod/${p.namespace}/${p.index}`, 5)}`;
  }

  nodeName(k: number): string {
    return `node-${String(k).padStart(3, '0')}`;
  }

  /** The node a pod runs on (undefined for a Pending pod). */
  nodeOf(p: PodPlace): string | undefined {
    if (p.failure === 'pending') return undefined;
    return this.nodeName(hash(`${p.namespace}/${p.index}`) % this.spec.nodes);
  }

  /** The NotReady node. */
  get badNode(): string {
    return this.nodeName(17 % this.spec.nodes);
  }

  private ownerRef(p: PodPlace): Raw {
    if (p.kind === 'StatefulSet') return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: p.workload, uid: uid(`sts/${p.namespace}/${p.group}`), controller: true, blockOwnerDeletion: true };
    if (p.kind === 'Job') return { apiVersion: 'batch/v1', kind: 'Job', name: this.jobName(p.namespace, p.group), uid: uid(`job/${p.namespace}/${p.group}`), controller: true, blockOwnerDeletion: true };
    return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${p.workload}-${this.rsHash(p.namespace, p.group)}`, uid: uid(`rs/${p.namespace}/${p.group}`), controller: true, blockOwnerDeletion: true };
  }

  jobName(namespace: string, group: number): string {
    return `${this.workloadName(namespace, group)}-29${String(group).padStart(6, '0')}`;
  }

  private image(p: PodPlace): string {
    const app = APPS[p.group % APPS.length]!;
    if (p.failure === 'imagepull') return `registry.example.com/team-${p.group % 7}/${app}:v2.${p.group % 9}.0-missing`;
    return `registry.example.com/team-${p.group % 7}/${app}:v1.${p.group % 30}.${p.group % 4}`;
  }

  /** Pod `index` of namespace `namespaceIndex`, as the API server sends it in a list. */
  pod(namespaceIndex: number, index: number): Raw {
    const p = this.place(namespaceIndex, index);
    const name = this.podName(p);
    const r = prng(hash(`podrand/${p.namespace}/${index}`));
    const created = 3600 * 24 * (1 + (p.group % 9)) + Math.floor(r() * 3600);
    const started = created - 5;
    const node = this.nodeOf(p);
    const app = APPS[p.group % APPS.length]!;
    const image = this.image(p);
    const hashLabel = p.kind === 'Deployment' ? this.rsHash(p.namespace, p.group) : undefined;
    const labels: Record<string, string> = { app: p.workload, 'app.kubernetes.io/name': p.workload, 'app.kubernetes.io/part-of': app, team: `team-${p.group % 7}` };
    if (hashLabel) labels['pod-template-hash'] = hashLabel;
    if (p.kind === 'StatefulSet') {
      labels['statefulset.kubernetes.io/pod-name'] = name;
      labels['controller-revision-hash'] = `${p.workload}-${suffix(`rev/${p.group}`, 10)}`;
    }
    if (p.kind === 'Job') {
      labels['batch.kubernetes.io/job-name'] = this.jobName(p.namespace, p.group);
      labels['job-name'] = this.jobName(p.namespace, p.group);
    }
    const memLimit = p.failure === 'oom' ? '256Mi' : `${512 + (p.group % 4) * 256}Mi`;
    const env = [
      { name: 'APP_NAME', value: app },
      { name: 'LOG_LEVEL', value: p.group % 3 ? 'info' : 'debug' },
      { name: 'HTTP_PORT', value: '8080' },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'url' } } },
      { name: 'FEATURE_FLAGS', valueFrom: { configMapKeyRef: { name: `${app}-flags`, key: 'flags' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    ];
    const probe = (path: string, delay: number) => ({ httpGet: { path, port: 8080, scheme: 'HTTP' }, initialDelaySeconds: delay, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    const containers: Raw[] = [
      {
        name: app,
        image,
        command: ['/app/server'],
        args: ['--config=/etc/app/config.yaml', `--port=8080`],
        ports: [
          { name: 'http', containerPort: 8080, protocol: 'TCP' },
        ],
        env,
        resources: { limits: { cpu: '1', memory: memLimit }, requests: { cpu: '100m', memory: p.failure === 'oom' ? '128Mi' : '256Mi' } },
        volumeMounts: [
          { name: 'config', readOnly: true, mountPath: '/etc/app' },
          { name: 'kube-api-access-' + suffix(`kaa/${p.namespace}/${index}`, 5), readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
        ],
        livenessProbe: probe('/healthz', 10),
        readinessProbe: probe('/ready', 5),
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
      },
    ];
    if (p.group % 8 === 1) {
      containers.push({
        name: 'envoy',
        image: 'envoyproxy/envoy:v1.31.2',
        args: ['-c', '/etc/envoy/envoy.yaml', '--service-cluster', app],
        ports: [{ name: 'envoy-admin', containerPort: 9901, protocol: 'TCP' }],
        resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '50m', memory: '64Mi' } },
        readinessProbe: probe('/ready', 1),
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      });
    }
    const kaa = 'kube-api-access-' + suffix(`kaa/${p.namespace}/${index}`, 5);
    const spec: Raw = {
      volumes: [
        { name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } },
        {
          name: kaa,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers,
      restartPolicy: p.kind === 'Job' ? 'OnFailure' : 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: app,
      serviceAccount: app,
      securityContext: { fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    };
    if (node) spec.nodeName = node;
    if (p.kind === 'StatefulSet') {
      spec.hostname = name;
      spec.subdomain = p.workload;
    }

    const statuses = (containers as { name: string; image: string }[]).map((c, ci) => this.containerStatus(p, c.name, c.image, ci, started, r));
    const ready = p.failure === 'none' || p.failure === 'exit1';
    const phase = p.failure === 'pending' || p.failure === 'imagepull' ? 'Pending' : p.kind === 'Job' ? 'Succeeded' : 'Running';
    const conditions: Raw[] =
      p.failure === 'pending'
        ? [
            {
              type: 'PodScheduled',
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: this.iso(created),
              reason: 'Unschedulable',
              message: `0/${this.spec.nodes} nodes are available: ${this.spec.nodes - 1} Insufficient memory, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/${this.spec.nodes} nodes are available: 1 Preemption is not helpful for scheduling, ${this.spec.nodes - 1} No preemption victims found for incoming pod.`,
            },
          ]
        : [
            { type: 'PodReadyToStartContainers', status: p.kind === 'Job' ? 'False' : 'True', lastProbeTime: null, lastTransitionTime: this.iso(started) },
            { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: this.iso(created - 1) },
            { type: 'Ready', status: ready && p.kind !== 'Job' ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: this.iso(started - 20), ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${app}]` }) },
            { type: 'ContainersReady', status: ready && p.kind !== 'Job' ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: this.iso(started - 20), ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${app}]` }) },
            { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.iso(created) },
          ];
    const podIP = `10.${(p.group >> 8) & 255}.${p.group & 255}.${10 + p.ordinal}`;
    const hostIP = node ? `192.168.${Math.floor(Number(node.slice(5)) / 250)}.${Number(node.slice(5)) % 250 + 2}` : undefined;
    const status: Raw = { phase, conditions, qosClass: 'Burstable' };
    if (node) {
      Object.assign(status, { hostIP, hostIPs: [{ ip: hostIP }], podIP, podIPs: [{ ip: podIP }], startTime: this.iso(started), containerStatuses: statuses });
    }

    const managedFields = [
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        apiVersion: 'v1',
        time: this.iso(created),
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:generateName': {}, 'f:labels': Object.fromEntries(Object.keys(labels).map((k) => [`f:${k}`, {}])), 'f:ownerReferences': { [`k:{"uid":"${String(this.ownerRef(p).uid)}"}`]: {} } },
          'f:spec': {
            [`f:containers`]: {
              [`k:{"name":"${app}"}`]: {
                '.': {},
                'f:args': {},
                'f:command': {},
                'f:env': Object.fromEntries(env.slice(0, 2).map((e) => [`k:{"name":"${e.name}"}`, { '.': {}, 'f:name': {}, [e.value !== undefined ? 'f:value' : 'f:valueFrom']: {} }])),
                'f:image': {},
                'f:imagePullPolicy': {},
                'f:name': {},
                'f:resources': {},
              },
            },
            'f:restartPolicy': {},
            'f:schedulerName': {},
            'f:securityContext': {},
            'f:serviceAccount': {},
            'f:serviceAccountName': {},
            'f:terminationGracePeriodSeconds': {},
            'f:volumes': {},
          },
        },
      },
      {
        manager: 'kubelet',
        operation: 'Update',
        apiVersion: 'v1',
        time: this.iso(started - 20),
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:status': {
            'f:conditions': Object.fromEntries(['ContainersReady', 'Ready'].map((t) => [`k:{"type":"${t}"}`, { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} }])),
            'f:containerStatuses': {},
            'f:hostIP': {},
            'f:hostIPs': {},
            'f:phase': {},
            'f:podIP': {},
            'f:podIPs': { '.': {}, [`k:{"ip":"${podIP}"}`]: { '.': {}, 'f:ip': {} } },
            'f:startTime': {},
          },
        },
        subresource: 'status',
      },
    ];

    return {
      metadata: {
        name,
        generateName: p.kind === 'StatefulSet' ? `${p.workload}-` : name.slice(0, -5),
        namespace: p.namespace,
        uid: uid(`pod/${p.namespace}/${index}`),
        resourceVersion: String(100000 + index * 7 + namespaceIndex),
        creationTimestamp: this.iso(created),
        labels,
        annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'checksum/config': hex(prng(hash(`cfg/${p.group}`)), 64) },
        ownerReferences: [this.ownerRef(p)],
        managedFields,
      },
      spec,
      status,
    };
  }

  private containerStatus(p: PodPlace, name: string, image: string, ci: number, started: number, r: () => number): Raw {
    const containerID = `containerd://${hex(r, 64)}`;
    const imageID = `${image.split(':')[0]}@sha256:${hex(r, 64)}`;
    const base = { name, image, imageID, containerID, started: true, ready: true, restartCount: 0, state: { running: { startedAt: this.iso(started - 2) } }, lastState: {} as Raw };
    if (ci > 0) return base;
    switch (p.failure) {
      case 'oom':
        return {
          ...base,
          ready: false,
          started: false,
          restartCount: 5 + (p.index % 8),
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=${name} pod=${this.podName(p)}_${p.namespace}(${uid(`pod/${p.namespace}/${p.index}`)})` } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: this.iso(400), finishedAt: this.iso(340), containerID } },
        };
      case 'exit1':
        return {
          ...base,
          restartCount: 3,
          state: { running: { startedAt: this.iso(900) } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: this.iso(2000), finishedAt: this.iso(905), containerID } },
        };
      case 'imagepull':
        return {
          name,
          image,
          imageID: '',
          started: false,
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } },
          lastState: {},
        };
      default:
        if (p.kind === 'Job') {
          return { ...base, ready: false, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: this.iso(started - 2), finishedAt: this.iso(started - 60), containerID } } };
        }
        return base;
    }
  }

  /** Event `k` (0 .. eventsPerPod-1) of pod `index` of a namespace. */
  event(namespaceIndex: number, index: number, k: number): Raw {
    const p = this.place(namespaceIndex, index);
    const podName = this.podName(p);
    const app = APPS[p.group % APPS.length]!;
    const image = this.image(p);
    const node = this.nodeOf(p);
    const container = `spec.containers{${app}}`;
    type Ev = [type: string, reason: string, message: string, fieldPath: string | undefined, count: number, component: string];
    const normal: Ev[] = [
      ['Normal', 'Scheduled', `Successfully assigned ${p.namespace}/${podName} to ${node}`, undefined, 1, 'default-scheduler'],
      ['Normal', 'Pulled', `Container image "${image}" already present on machine`, container, 1, 'kubelet'],
      ['Normal', 'Created', `Created container: ${app}`, container, 1, 'kubelet'],
      ['Normal', 'Started', `Started container ${app}`, container, 1, 'kubelet'],
    ];
    let list: Ev[] = normal;
    if (p.failure === 'oom' || p.failure === 'exit1') list = [normal[0]!, normal[1]!, normal[3]!, ['Warning', 'BackOff', `Back-off restarting failed container ${app} in pod ${podName}_${p.namespace}(${uid(`pod/${p.namespace}/${p.index}`)})`, container, 40 + (p.index % 20), 'kubelet']];
    if (p.failure === 'imagepull') {
      list = [
        normal[0]!,
        ['Normal', 'Pulling', `Pulling image "${image}"`, container, 12, 'kubelet'],
        ['Warning', 'Failed', `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`, container, 12, 'kubelet'],
        ['Warning', 'BackOff', `Back-off pulling image "${image}"`, container, 240, 'kubelet'],
      ];
    }
    if (p.failure === 'pending') {
      const msg = `0/${this.spec.nodes} nodes are available: ${this.spec.nodes - 1} Insufficient memory, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.`;
      list = [0, 1, 2, 3].map((i) => ['Warning', 'FailedScheduling', `${msg} (attempt ${i})`, undefined, 3 + i, 'default-scheduler'] as Ev);
    }
    const [type, reason, message, fieldPath, count, component] = list[k % list.length]!;
    const age = 60 * (k + 1) + (index % 50);
    const eventName = `${podName}.${(0x17f000000000 + index * 16 + k).toString(16)}`;
    const involvedObject: Raw = { kind: 'Pod', namespace: p.namespace, name: podName, uid: uid(`pod/${p.namespace}/${p.index}`), apiVersion: 'v1', resourceVersion: String(100000 + index * 7) };
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    return {
      metadata: { name: eventName, namespace: p.namespace, uid: uid(`ev/${p.namespace}/${index}/${k}`), resourceVersion: String(900000 + index * 4 + k), creationTimestamp: this.iso(age + 3000) },
      involvedObject,
      reason,
      message,
      source: component === 'kubelet' ? { component, host: node } : { component },
      firstTimestamp: this.iso(age + 3000),
      lastTimestamp: this.iso(age),
      count,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? (node ?? '') : '',
    };
  }

  node(k: number): Raw {
    const name = this.nodeName(k);
    const bad = name === this.badNode;
    const zone = `europe-west1-${'bcd'[k % 3]}`;
    const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: this.iso(bad ? 900 : 20), lastTransitionTime: this.iso(bad ? 880 : 86400 * 3), reason, message });
    const conditions = bad
      ? [
          cond('MemoryPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'),
          cond('DiskPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'),
          cond('PIDPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'),
          cond('Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'),
        ]
      : [
          cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
        ];
    const r = prng(hash(`node/${k}`));
    return {
      metadata: {
        name,
        uid: uid(`node/${k}`),
        resourceVersion: String(500000 + k),
        creationTimestamp: this.iso(86400 * 30),
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': 'n2-standard-16',
          'topology.kubernetes.io/region': 'europe-west1',
          'topology.kubernetes.io/zone': zone,
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
      spec: {
        podCIDR: `10.${100 + (k >> 8)}.${k & 255}.0/24`,
        providerID: `gce://bench/${zone}/${name}`,
        ...(bad
          ? {
              taints: [
                { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: this.iso(880) },
                { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: this.iso(875) },
              ],
            }
          : {}),
      },
      status: {
        capacity: { cpu: '16', 'ephemeral-storage': '98831908Ki', memory: '65851340Ki', pods: '110' },
        allocatable: { cpu: '15890m', 'ephemeral-storage': '47060071478', memory: '61002188Ki', pods: '110' },
        conditions,
        addresses: [
          { type: 'InternalIP', address: `192.168.${Math.floor(k / 250)}.${(k % 250) + 2}` },
          { type: 'Hostname', address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: hex(r, 32),
          systemUUID: uid(`sys/${k}`),
          bootID: uid(`boot/${k}`),
          kernelVersion: '6.1.112+',
          osImage: 'Container-Optimized OS from Google',
          containerRuntimeVersion: 'containerd://1.7.24',
          kubeletVersion: 'v1.32.4',
          kubeProxyVersion: 'v1.32.4',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
        images: Array.from({ length: 12 }, (_, i) => ({ names: [`registry.example.com/team-${i % 7}/${APPS[i]}@sha256:${hex(r, 64)}`, `registry.example.com/team-${i % 7}/${APPS[i]}:v1.${i}.0`], sizeBytes: 20_000_000 + i * 1_234_567 })),
      },
    };
  }

  /** The workloads of a namespace (ReplicaSets, Deployments, StatefulSets, Jobs, CronJobs), by kind. */
  workloads(namespaceIndex: number, kind: string): Raw[] {
    const namespace = this.spec.namespaces[namespaceIndex]!;
    const out: Raw[] = [];
    for (let g = 0; g < this.groups(); g++) {
      const wkind = this.kindOf(g);
      const failure = this.failureOf(g, wkind);
      const name = this.workloadName(namespace, g);
      const ready = failure === 'none' || failure === 'exit1' ? GROUP : 0;
      const selector = { matchLabels: { app: name } };
      const created = this.iso(86400 * (10 + (g % 5)));
      if (wkind === 'Deployment' && (kind === 'Deployment' || kind === 'ReplicaSet')) {
        const rsName = `${name}-${this.rsHash(namespace, g)}`;
        if (kind === 'Deployment') {
          out.push({
            metadata: { name, namespace, uid: uid(`deploy/${namespace}/${g}`), resourceVersion: String(700000 + g), generation: 3, creationTimestamp: created, labels: { app: name }, annotations: { 'deployment.kubernetes.io/revision': '3' } },
            spec: { replicas: GROUP, selector, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: APPS[g % APPS.length], image: `registry.example.com/${name}:v1` }] } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
            status: { observedGeneration: 3, replicas: GROUP, updatedReplicas: GROUP, readyReplicas: ready, availableReplicas: ready, ...(ready < GROUP ? { unavailableReplicas: GROUP - ready } : {}), conditions: [{ type: 'Available', status: ready ? 'True' : 'False', lastUpdateTime: created, lastTransitionTime: created, reason: ready ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: ready ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' }] },
          });
        } else {
          out.push({
            metadata: { name: rsName, namespace, uid: uid(`rs/${namespace}/${g}`), resourceVersion: String(710000 + g), generation: 1, creationTimestamp: created, labels: { app: name, 'pod-template-hash': this.rsHash(namespace, g) }, annotations: { 'deployment.kubernetes.io/desired-replicas': String(GROUP), 'deployment.kubernetes.io/max-replicas': String(GROUP + 3), 'deployment.kubernetes.io/revision': '3' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: uid(`deploy/${namespace}/${g}`), controller: true, blockOwnerDeletion: true }] },
            spec: { replicas: GROUP, selector: { matchLabels: { app: name, 'pod-template-hash': this.rsHash(namespace, g) } }, template: { metadata: { labels: { app: name, 'pod-template-hash': this.rsHash(namespace, g) } }, spec: { containers: [{ name: APPS[g % APPS.length], image: `registry.example.com/${name}:v1` }] } } },
            status: { replicas: GROUP, fullyLabeledReplicas: GROUP, readyReplicas: ready, availableReplicas: ready, observedGeneration: 1 },
          });
        }
      }
      if (wkind === 'StatefulSet' && kind === 'StatefulSet') {
        out.push({
          metadata: { name, namespace, uid: uid(`sts/${namespace}/${g}`), resourceVersion: String(720000 + g), generation: 1, creationTimestamp: created, labels: { app: name } },
          spec: { replicas: GROUP, selector, serviceName: name, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: APPS[g % APPS.length], image: `registry.example.com/${name}:v1` }] } }, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate' } },
          status: { observedGeneration: 1, replicas: GROUP, readyReplicas: ready, currentReplicas: GROUP, updatedReplicas: GROUP, availableReplicas: ready },
        });
      }
      if (wkind === 'Job' && (kind === 'Job' || kind === 'CronJob')) {
        if (kind === 'CronJob') {
          out.push({
            metadata: { name, namespace, uid: uid(`cj/${namespace}/${g}`), resourceVersion: String(730000 + g), generation: 1, creationTimestamp: created },
            spec: { schedule: '*/30 * * * *', concurrencyPolicy: 'Forbid', suspend: false, jobTemplate: { spec: { completions: GROUP, parallelism: GROUP, backoffLimit: 6, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: APPS[g % APPS.length], image: `registry.example.com/${name}:v1` }] } } } }, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 },
            status: { lastScheduleTime: this.iso(600), lastSuccessfulTime: this.iso(500) },
          });
        } else {
          out.push({
            metadata: { name: this.jobName(namespace, g), namespace, uid: uid(`job/${namespace}/${g}`), resourceVersion: String(740000 + g), generation: 1, creationTimestamp: this.iso(600), labels: { 'job-name': this.jobName(namespace, g) }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name, uid: uid(`cj/${namespace}/${g}`), controller: true, blockOwnerDeletion: true }] },
            spec: { completions: GROUP, parallelism: GROUP, backoffLimit: 6, completionMode: 'NonIndexed', template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: APPS[g % APPS.length], image: `registry.example.com/${name}:v1` }] } } },
            status: { startTime: this.iso(600), completionTime: this.iso(500), succeeded: GROUP, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: this.iso(500), lastTransitionTime: this.iso(500) }] },
          });
        }
      }
    }
    return out;
  }

  /** The previous log of a crashed container: a few plausible lines. */
  log(p: PodPlace, tail: number): string {
    const lines =
      p.failure === 'oom'
        ? ['starting server on :8080', 'loaded 1843211 catalogue entries into the cache', 'cache warm-up: 61% of memory limit used', 'cache warm-up: 97% of memory limit used']
        : ['starting server on :8080', 'connecting to database', 'error: connection refused: db.internal:5432', 'fatal: could not connect to the database after 5 attempts'];
    return lines.slice(-tail).map((l) => `2026-01-10T08:00:00.000Z ${l}\n`).join('');
  }
}
