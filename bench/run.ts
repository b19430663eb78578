import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterSpec } from './cluster.js';
import { SyntheticCluster } from './cluster.js';
import type { BenchServer } from './server.js';
import { startBenchServer } from './server.js';
import { afterLastAnswer, fmtDuration } from './timing.js';

/**
 * `npm run bench` (`-- --quick` for a smaller run): kdiag against a synthetic cluster on a loopback
 * HTTPS API server, next to the floor (bench/floor.ts: fetch and parse the same lists, nothing else)
 * and `kubectl get pods,events -o json` when kubectl is installed. For each scenario: wall time
 * (median of the runs after a warm-up), peak RSS of the process (/usr/bin/time %M, else the last
 * VmHWM read from /proc) and the API requests it made; for the scenarios that read the API, the wall
 * time split at the server's last answer and the server's CPU time. Prints the tables and writes
 * bench/results.json.
 *
 *   npm run bench                      # every scenario, 5 runs each
 *   npm run bench -- --quick           # 1k and 5k pods, -A over 10k, 3 runs
 *   npm run bench -- --only namespace-5k,pod --runs 7
 *   npm run bench -- --kdiag /other/checkout/bin/kdiag.js   # measure another build
 *   npm run bench -- --no-kubectl      # leave kubectl out (it takes minutes at 20k pods and more)
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `--kdiag PATH`: another build's bin/kdiag.js, to compare before and after a change. */
const KDIAG = path.resolve(valueOf('--kdiag') ?? path.join(ROOT, 'bin', 'kdiag.js'));
const FLOOR = path.join(ROOT, 'dist-bench', 'bench', 'floor.js');
const QUICK = process.argv.includes('--quick');
const RUNS = Number(valueOf('--runs') ?? (QUICK ? 3 : 5));
const ONLY = valueOf('--only')?.split(',');

function valueOf(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at > 0 ? process.argv[at + 1] : undefined;
}

type Tool = 'kdiag' | 'floor' | 'kubectl';

interface Measure {
  ms: number;
  rssKb: number;
  requests: number;
  /** From the server's log: first request to last answer, and requests in sequence. */
  apiSpanMs: number;
  depth: number;
  /**
   * From the server's last answer to the tool's exit: what the tool does once the last byte is in
   * (kdiag: the rest of its reading, the rules and the report; the floor: its last parse). No
   * fetch overlaps it, so it adds to the wall time whole.
   */
  afterLastMs: number;
  /** CPU time of the bench process (the API server and this loop) during the run: how busy the server was. */
  serverCpuMs: number;
}

interface Scenario {
  id: string;
  title: string;
  cluster?: ClusterSpec;
  latencyMs?: number;
  /** Command lines (program, args) per tool; a missing tool is not run. */
  commands: (server: BenchServer, cluster: SyntheticCluster | undefined) => Partial<Record<Tool, string[]>>;
  targets: Target[];
}

interface Target {
  text: string;
  check: (m: Record<Tool, Summary | undefined>) => { value: string; met: boolean } | undefined;
}

interface Summary {
  ms: number;
  rssKb: number;
  requests: number;
  apiSpanMs: number;
  depth: number;
  afterLastMs: number;
  serverCpuMs: number;
  runs: Measure[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const TIME = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0 ? '/usr/bin/time' : undefined;
const KUBECTL = !process.argv.includes('--no-kubectl') && spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0 ? 'kubectl' : undefined;
/** A tool whose warm-up run takes longer than this is not run again: its warm-up is its one measurement. */
const SLOW_MS = 5000;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'kdiag-bench-run-'));

/** Run one command to completion: wall time, peak RSS, exit code, stderr, and stdout when asked (else /dev/null). */
function measure(command: string[], env: NodeJS.ProcessEnv, capture: boolean): Promise<{ ms: number; rssKb: number; code: number; stdout: string; stderr: string; startedAt: number; endedAt: number; cpuMs: number }> {
  const rssFile = path.join(scratch, 'rss');
  rmSync(rssFile, { force: true });
  const [program, ...args] = TIME ? [TIME, '-f', '%M', '-o', rssFile, ...command] : command;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const child = spawn(program!, args, { env, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 1 << 16) stderr += chunk.toString();
    });
    let hwm = 0;
    const poll = TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            // gone
          }
        }, 5);
    child.on('error', reject);
    child.on('close', (code) => {
      const ended = performance.now();
      const ms = ended - started;
      const used = process.cpuUsage(cpu);
      if (poll) clearInterval(poll);
      const rssKb = TIME ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : hwm;
      // The server's log stamps are performance.timeOrigin + performance.now() of this process.
      const { timeOrigin } = performance;
      resolve({ ms, rssKb, code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr, startedAt: timeOrigin + started, endedAt: timeOrigin + ended, cpuMs: (used.user + used.system) / 1000 });
    });
  });
}

/** Requests in sequence: each request is one deeper than the deepest answered before it arrived. */
function depthOf(log: BenchServer['log']): number {
  const sorted = [...log].sort((a, b) => a.arrived - b.arrived);
  const depth: number[] = [];
  let max = 0;
  sorted.forEach((r, i) => {
    let d = 1;
    for (let j = 0; j < i; j++) if (sorted[j]!.answered > 0 && sorted[j]!.answered <= r.arrived) d = Math.max(d, depth[j]! + 1);
    depth.push(d);
    max = Math.max(max, d);
  });
  return max;
}

const ns = (n: number) => Array.from({ length: n }, (_, i) => `team-${String(i).padStart(2, '0')}`);
const now = Date.now();
const sweepSpec = (pods: number): ClusterSpec => ({ namespaces: ['bench'], podsPerNamespace: pods, nodes: 200, eventsPerPod: 4, now });
const allSpec = (pods: number): ClusterSpec => ({ namespaces: ns(pods / 1000), podsPerNamespace: 1000, nodes: 200, eventsPerPod: 1, now });

const ratio = (a: Summary | undefined, b: Summary | undefined, key: 'ms' | 'rssKb') => (a && b ? a[key] / b[key] : NaN);
const within = (key: 'ms' | 'rssKb', limit: number): Target => ({
  text: `${key === 'ms' ? 'wall' : 'peak RSS'} <= ${limit}x floor`,
  check: (m) => {
    const r = ratio(m.kdiag, m.floor, key);
    return Number.isFinite(r) ? { value: `${r.toFixed(2)}x`, met: r <= limit } : undefined;
  },
});

function sweepScenario(pods: number): Scenario {
  const targets = pods === 5000 ? [within('ms', 1.5), within('rssKb', 1.5)] : pods === 20000 ? [within('ms', 1.2)] : [];
  return {
    id: `namespace-${pods / 1000}k`,
    title: `kdiag namespace: ${pods} pods, 200 nodes, ${pods * 4} events`,
    cluster: sweepSpec(pods),
    commands: (s) => ({
      kdiag: [process.execPath, KDIAG, 'namespace', 'bench', '--kubeconfig', s.kubeconfigPath],
      floor: [process.execPath, FLOOR, '--server', s.url, '--token', s.token, '--ca', s.caPath, '--namespace', 'bench'],
      kubectl: ['kubectl', '--kubeconfig', s.kubeconfigPath, 'get', 'pods,events', '-n', 'bench', '-o', 'json'],
    }),
    targets,
  };
}

function scenarios(): Scenario[] {
  const all = QUICK ? 10_000 : 50_000;
  const list: Scenario[] = [
    ...(QUICK ? [1000, 5000] : [1000, 5000, 20000]).map(sweepScenario),
    {
      id: 'pod-latency',
      title: 'kdiag pod (OOMKilled, Deployment), 100 ms API latency',
      cluster: sweepSpec(1000),
      latencyMs: 100,
      commands: (s, c) => {
        const name = c!.podName(c!.place(0, 30));
        return {
          kdiag: [process.execPath, KDIAG, 'pod', name, '-n', 'bench', '--kubeconfig', s.kubeconfigPath],
          floor: [process.execPath, FLOOR, '--server', s.url, '--token', s.token, '--ca', s.caPath, '--namespace', 'bench', '--pod', name],
          kubectl: ['kubectl', '--kubeconfig', s.kubeconfigPath, 'describe', 'pod', name, '-n', 'bench'],
        };
      },
      targets: [
        { text: '<= 3 round trips in sequence', check: (m) => (m.kdiag ? { value: String(m.kdiag.depth), met: m.kdiag.depth <= 3 } : undefined) },
        { text: 'API time <= 400 ms', check: (m) => (m.kdiag ? { value: `${Math.round(m.kdiag.apiSpanMs)} ms`, met: m.kdiag.apiSpanMs <= 400 } : undefined) },
      ],
    },
    {
      id: `all-namespaces-${all / 1000}k`,
      title: `kdiag namespace -A: ${all} pods in ${all / 1000} namespaces, 200 nodes, ${all} events`,
      cluster: allSpec(all),
      commands: (s) => ({
        kdiag: [process.execPath, KDIAG, 'namespace', '-A', '--kubeconfig', s.kubeconfigPath],
        floor: [process.execPath, FLOOR, '--server', s.url, '--token', s.token, '--ca', s.caPath, '--all'],
        kubectl: ['kubectl', '--kubeconfig', s.kubeconfigPath, 'get', 'pods,events', '-A', '-o', 'json'],
      }),
      targets: [within('rssKb', 2)],
    },
    {
      id: 'help',
      title: 'kdiag --help (floor: node -e 0)',
      commands: () => ({ kdiag: [process.execPath, KDIAG, '--help'], floor: [process.execPath, '-e', '0'] }),
      targets: [within('ms', 3)],
    },
    {
      id: 'explain-137',
      title: 'kdiag explain 137 (floor: node -e 0)',
      commands: () => ({ kdiag: [process.execPath, KDIAG, 'explain', '137'], floor: [process.execPath, '-e', '0'] }),
      targets: [within('ms', 3)],
    },
  ];
  return ONLY ? list.filter((s) => ONLY.some((o) => s.id.startsWith(o))) : list;
}

async function runScenario(server: BenchServer, scenario: Scenario): Promise<{ summary: Record<Tool, Summary | undefined>; sanity: string }> {
  const cluster = scenario.cluster ? new SyntheticCluster(scenario.cluster) : undefined;
  if (cluster) server.serve(cluster);
  server.latencyMs = scenario.latencyMs ?? 0;
  const commands = scenario.commands(server, cluster);
  if (!KUBECTL) delete commands.kubectl;
  const home = path.join(scratch, 'home');
  const env = { PATH: process.env.PATH, HOME: home, NO_COLOR: '1', KUBECACHEDIR: path.join(scratch, 'kube-cache') };
  const tools = Object.keys(commands) as Tool[];
  const runs: Record<Tool, Measure[]> = { kdiag: [], floor: [], kubectl: [] };
  const slow = new Set<Tool>();
  let sanity = '';
  // A warm-up round (fills the server's page cache and the OS file cache), then RUNS rounds. kubectl
  // on a large cluster takes minutes: when its warm-up is slow (SLOW_MS), that run is its measurement
  // (the server's pages were already made by the tools before it).
  for (let round = 0; round <= RUNS; round++) {
    for (const tool of tools) {
      if (slow.has(tool)) continue;
      // kdiag's warm-up prints JSON, read to say what the cluster gave (the sanity line).
      const sanityRun = round === 0 && tool === 'kdiag' && cluster !== undefined;
      const command = sanityRun ? [...commands[tool]!, '-o', 'json'] : commands[tool]!;
      server.resetLog();
      const result = await measure(command, env, sanityRun);
      const ok = tool === 'kdiag' ? result.code === 0 || result.code === 1 : result.code === 0;
      if (!ok) throw new Error(`${scenario.id}: ${command.join(' ')} exited ${result.code}: ${result.stderr.slice(0, 500)}`);
      if (sanityRun) {
        const report = JSON.parse(result.stdout) as { summary: Record<string, number>; diagnoses: { rule: string }[] };
        const rules = [...new Set(report.diagnoses.map((d) => d.rule))].sort();
        sanity = `${report.summary.pods} pods, ${report.diagnoses.length} diagnoses (${rules.join(', ')})`;
      }
      if (round === 0 && !(tool === 'kubectl' && result.ms > SLOW_MS)) continue;
      if (round === 0) slow.add(tool);
      const log = server.log;
      const span = log.length ? Math.max(...log.map((r) => r.answered)) - Math.min(...log.map((r) => r.arrived)) : 0;
      runs[tool].push({ ms: result.ms, rssKb: result.rssKb, requests: log.length, apiSpanMs: span, depth: log.length ? depthOf(log) : 0, afterLastMs: afterLastAnswer(log, result.startedAt, result.endedAt), serverCpuMs: result.cpuMs });
    }
  }
  const summarise = (ms: Measure[]): Summary | undefined =>
    ms.length
      ? { ms: median(ms.map((m) => m.ms)), rssKb: median(ms.map((m) => m.rssKb)), requests: median(ms.map((m) => m.requests)), apiSpanMs: median(ms.map((m) => m.apiSpanMs)), depth: Math.max(...ms.map((m) => m.depth)), afterLastMs: median(ms.map((m) => m.afterLastMs)), serverCpuMs: median(ms.map((m) => m.serverCpuMs)), runs: ms }
      : undefined;
  return { summary: { kdiag: summarise(runs.kdiag), floor: summarise(runs.floor), kubectl: summarise(runs.kubectl) }, sanity };
}

const fmtMs = (s: Summary | undefined) => (s ? `${fmtDuration(s.ms)}${s.runs.length === 1 && RUNS > 1 ? ' (1 run)' : ''}` : '-');
const fmtMb = (s: Summary | undefined) => (s ? `${Math.round(s.rssKb / 1024)} MB` : '-');
const fmtX = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');

async function main(): Promise<void> {
  if (!existsSync(FLOOR) || !existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'index.js'))) throw new Error('build first: npm run bench builds dist/ and dist-bench/');
  const server = await startBenchServer();
  const results: unknown[] = [];
  const rows: string[][] = [];
  const timeRows: string[][] = [];
  const verdicts: string[] = [];
  try {
    for (const scenario of scenarios()) {
      process.stderr.write(`bench: ${scenario.title} ...`);
      const started = Date.now();
      const { summary: m, sanity } = await runScenario(server, scenario);
      process.stderr.write(` ${((Date.now() - started) / 1000).toFixed(0)} s${sanity ? ` (${sanity})` : ''}\n`);
      const checks = scenario.targets.map((t) => ({ target: t.text, ...(t.check(m) ?? { value: 'n/a', met: false }) }));
      for (const c of checks) verdicts.push(`${c.met ? 'MET ' : 'MISS'} ${scenario.id}: ${c.target} (${c.value})`);
      rows.push([
        scenario.id,
        fmtMs(m.kdiag),
        fmtMs(m.floor),
        fmtX(ratio(m.kdiag, m.floor, 'ms')),
        fmtMs(m.kubectl),
        fmtMb(m.kdiag),
        fmtMb(m.floor),
        fmtX(ratio(m.kdiag, m.floor, 'rssKb')),
        fmtMb(m.kubectl),
        [m.kdiag, m.floor, m.kubectl].map((s) => (s ? String(s.requests) : '-')).join(' / '),
      ]);
      if (m.kdiag?.requests && m.floor?.requests) {
        const at = (x: Summary) => `${fmtDuration(median(x.runs.map((r) => r.ms - r.afterLastMs)))} + ${Math.round(x.afterLastMs)} ms`;
        timeRows.push([scenario.id, at(m.kdiag), at(m.floor), `${Math.round(m.kdiag.serverCpuMs)} / ${Math.round(m.floor.serverCpuMs)} ms`]);
      }
      results.push({ id: scenario.id, title: scenario.title, cluster: scenario.cluster ? { ...scenario.cluster, now: undefined } : undefined, latencyMs: scenario.latencyMs ?? 0, sanity, ...m, targets: checks });
    }
  } finally {
    await server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const header = ['scenario', 'kdiag', 'floor', 'x floor', 'kubectl', 'kdiag RSS', 'floor RSS', 'x floor', 'kubectl RSS', 'requests kdiag / floor / kubectl'];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.platform()} ${os.release()}, Node ${process.version}`;
  const timeHeader = ['scenario', 'kdiag: last answer + after it', 'floor: last answer + after it', 'server CPU kdiag / floor'];
  const timeTable = [timeHeader, timeHeader.map(() => '---'), ...timeRows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  process.stdout.write(`\n${machine}; median of ${RUNS} runs after a warm-up${QUICK ? ' (--quick)' : ''}\n\n${table}\n\n${verdicts.join('\n')}\n`);
  // Where the wall time goes: until the API server's last answer (reading, with whatever overlaps
  // it), then after it (what nothing overlaps); and how busy the server was meanwhile.
  if (timeRows.length) process.stdout.write(`\nWall time split at the API server's last answer (medians):\n\n${timeTable}\n`);
  const kubectlVersion = KUBECTL ? spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).stdout.split('\n')[0] : null;
  writeFileSync(
    path.join(ROOT, 'bench', 'results.json'),
    `${JSON.stringify({ machine, cores: os.cpus().length, node: process.version, kubectl: kubectlVersion, rss: TIME ? '/usr/bin/time %M' : '/proc VmHWM polling', runs: RUNS, quick: QUICK, date: new Date().toISOString(), scenarios: results }, null, 2)}\n`,
  );
  process.stdout.write('\nwrote bench/results.json\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
