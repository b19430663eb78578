import { readFileSync } from 'node:fs';
import https from 'node:https';

/**
 * The floor: the least any tool must do to read what a kdiag sweep reads. It fetches the same
 * lists (pods, events, nodes and the six workload kinds; limit + continue, every list in parallel)
 * over node:https with keep-alive, JSON.parses each page, counts its items and drops it. No
 * kubeconfig library, no projection, no diagnosis, nothing kept. With --pod NAME it makes the reads
 * of a one-pod diagnosis in their dependency order: the pod, then its events, node, ReplicaSet and
 * previous log in parallel, then the Deployment.
 *
 *   node dist-bench/bench/floor.js --server URL --token T --ca FILE (--namespace NS | --all | --pod NAME --namespace NS) [--page 500]
 */

type Raw = Record<string, unknown>;

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
}

const server = arg('server')!;
const token = arg('token')!;
const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: readFileSync(arg('ca')!, 'utf8') });
const pageSize = Number(arg('page') ?? 500);
let requests = 0;

function get(path: string): Promise<string> {
  requests++;
  return new Promise((resolve, reject) => {
    const req = https.request(`${server}${path}`, { agent, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${path}: ${res.statusCode}`));
        else resolve(body);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJson(path: string): Promise<Raw> {
  return JSON.parse(await get(path)) as Raw;
}

/** Every page of a list; returns how many items it had. */
async function list(path: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const query = `?limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const page = await getJson(path + query);
    count += Array.isArray(page.items) ? page.items.length : 0;
    const meta = (page.metadata ?? {}) as Raw;
    token = typeof meta.continue === 'string' && meta.continue ? meta.continue : undefined;
  } while (token);
  return count;
}

async function sweep(namespace: string | undefined): Promise<number> {
  const core = (r: string) => (namespace ? `/api/v1/namespaces/${namespace}/${r}` : `/api/v1/${r}`);
  const group = (g: string, r: string) => (namespace ? `/apis/${g}/v1/namespaces/${namespace}/${r}` : `/apis/${g}/v1/${r}`);
  const paths = [
    core('pods'),
    core('events'),
    '/api/v1/nodes',
    ...['replicasets', 'deployments', 'statefulsets', 'daemonsets'].map((r) => group('apps', r)),
    ...['jobs', 'cronjobs'].map((r) => group('batch', r)),
  ];
  const counts = await Promise.all(paths.map(list));
  return counts.reduce((a, b) => a + b, 0);
}

async function onePod(namespace: string, name: string): Promise<number> {
  const pod = await getJson(`/api/v1/namespaces/${namespace}/pods/${name}`);
  const meta = pod.metadata as { ownerReferences?: { kind: string; name: string }[] };
  const spec = pod.spec as { nodeName?: string; containers: { name: string }[] };
  const owner = meta.ownerReferences?.[0];
  const [, , rs] = await Promise.all([
    getJson(`/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`),
    spec.nodeName ? getJson(`/api/v1/nodes/${spec.nodeName}`) : undefined,
    owner?.kind === 'ReplicaSet' ? getJson(`/apis/apps/v1/namespaces/${namespace}/replicasets/${owner.name}`) : undefined,
    get(`/api/v1/namespaces/${namespace}/pods/${name}/log?container=${spec.containers[0]!.name}&previous=true&tailLines=20`),
  ]);
  const top = (rs?.metadata as { ownerReferences?: { kind: string; name: string }[] } | undefined)?.ownerReferences?.[0];
  if (top?.kind === 'Deployment') await getJson(`/apis/apps/v1/namespaces/${namespace}/deployments/${top.name}`);
  return 1;
}

const pod = arg('pod');
const items = pod ? await onePod(arg('namespace')!, pod) : await sweep(process.argv.includes('--all') ? undefined : arg('namespace'));
agent.destroy();
process.stdout.write(`${JSON.stringify({ items, requests })}\n`);
