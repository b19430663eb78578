import type { KubeEvent, Pod, Probe } from './k8s.js';
import type { RemediationStep, RuleContext } from './finding.js';
import type { ContainerView } from './pod.js';
import { containers, eventEvidence, eventsWithReason, isAboutContainer, kubectl, lastTermination, msSince, nsFlag, stateEvidence } from './pod.js';
import { eventTime } from './snapshot-index.js';
import { isSettled } from './terminations.js';
import { age, firstLine, shellQuote } from './text.js';

/** The three kubelet probes. */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** What a probe failure says, from the kubelet's text: a status code, a refused connection, a timeout, a failing command. */
export type ProbeCause = 'http-status' | 'connection-refused' | 'timeout' | 'command-failed' | 'other';

/** How a failure reads: the probe is likely set up wrong, the application is slow, or it reports itself unhealthy. */
export type ProbeReading = 'misconfigured' | 'slow' | 'unhealthy' | 'unknown';

const LABEL: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };
const FIELD = { liveness: 'livenessProbe', readiness: 'readinessProbe', startup: 'startupProbe' } as const;

/** The probe of one kind a container spec declares. */
export function probeOf(view: ContainerView, kind: ProbeKind): Probe | undefined {
  return view.spec?.[FIELD[kind]];
}

/** The failures of one probe of one container, read from the kubelet's Unhealthy and Killing events. */
export interface ProbeFailures {
  kind: ProbeKind;
  view: ContainerView;
  pod: Pod;
  probe: Probe | undefined;
  /** Unhealthy events for this probe and container, oldest first. */
  failures: KubeEvent[];
  /** Killing events "Container web failed liveness probe, will be restarted" for this container. */
  kills: KubeEvent[];
  latest: KubeEvent;
  /** The latest failure's probe output, without the "Liveness probe failed: " prefix. */
  output: string;
  cause: ProbeCause;
  statusCode?: number;
  /** The port the failure text names (a named probe port resolved by the kubelet). */
  port?: string;
  /** When the current container instance started (epoch ms), if it runs. */
  startedAt?: number;
  /** The latest failure happened while the current instance runs. */
  sinceStart: boolean;
  /** The kubelet restarted the container for this probe: Killing events, or an exit 137/143 after the failures began. */
  killed: boolean;
}

const PROBE_EVENT = /^(Liveness|Readiness|Startup) probe (?:failed|errored):?\s*/i;

/** The cause a probe output stands for, with the HTTP status code when it has one. */
export function classifyProbeOutput(output: string, probe: Probe | undefined): { cause: ProbeCause; statusCode?: number } {
  const code = output.match(/statuscode: (\d{3})/i);
  if (code) return { cause: 'http-status', statusCode: Number(code[1]) };
  if (/connection refused/i.test(output)) return { cause: 'connection-refused' };
  if (/timed out|timeout|deadline exceeded/i.test(output)) return { cause: 'timeout' };
  if (probe?.exec || /^command /i.test(output)) return { cause: 'command-failed' };
  return { cause: 'other' };
}

/** The port a probe failure names: `dial tcp 10.1.2.3:8080: ...` or `Get "http://10.1.2.3:8080/ready": ...`. */
function portInText(output: string): string | undefined {
  return output.match(/dial tcp \S*:(\d+):/)?.[1] ?? output.match(/https?:\/\/[^/"\s]*:(\d+)/)?.[1];
}

/**
 * Every container whose probe of `kind` has failed, per the kubelet's Unhealthy events ("Liveness probe
 * failed: HTTP probe failed with statuscode: 404"), matched to the container by the event's fieldPath
 * (`spec.containers{web}`). Pods whose work is done or that are being deleted are left out: a
 * terminating pod fails its readiness probe by design.
 */
export function probeFailures(context: RuleContext, kind: ProbeKind): ProbeFailures[] {
  const { index } = context;
  const result: ProbeFailures[] = [];
  const killText = new RegExp(`failed ${kind} probe`, 'i');
  for (const pod of index.suspects) {
    if (isSettled(context, pod)) continue;
    const unhealthy = eventsWithReason(index, pod, 'Unhealthy').filter((e) => PROBE_EVENT.exec(e.message ?? '')?.[1]?.toLowerCase() === kind);
    if (unhealthy.length === 0) continue;
    const killing = eventsWithReason(index, pod, 'Killing').filter((e) => killText.test(e.message ?? ''));
    const views = containers(pod);
    const probed = views.filter((v) => probeOf(v, kind));
    for (const view of views) {
      const name = view.status.name;
      // An event without a fieldPath belongs to the container only when no other one has this probe.
      const mine = (e: KubeEvent): boolean => (e.involvedObject.fieldPath ? isAboutContainer(e, name) : probed.length === 1 && probed[0] === view);
      const failures = unhealthy.filter(mine);
      const latest = failures[failures.length - 1];
      if (!latest) continue;
      const kills = killing.filter((e) => mine(e) && (!e.involvedObject.fieldPath ? (e.message ?? '').includes(`Container ${name} `) : true));
      const probe = probeOf(view, kind);
      const output = (latest.message ?? '').replace(PROBE_EVENT, '').trim();
      const started = view.status.state?.running?.startedAt ? Date.parse(view.status.state.running.startedAt) : NaN;
      const startedAt = Number.isFinite(started) ? started : undefined;
      const lastAt = eventTime(latest);
      const firstStamp = failures[0]?.firstTimestamp ?? failures[0]?.metadata.creationTimestamp;
      const firstAt = firstStamp ? Date.parse(firstStamp) : eventTime(failures[0]!);
      // A restart that ended in SIGKILL or SIGTERM after the failures began is the probe's kill even
      // when the Killing event has expired (events live one hour; the last state stays).
      const termination = lastTermination(view.status);
      const finished = termination?.terminated.finishedAt ? Date.parse(termination.terminated.finishedAt) : NaN;
      const killedBySignal =
        kind !== 'readiness' &&
        (view.status.restartCount ?? 0) > 0 &&
        (termination?.terminated.exitCode === 137 || termination?.terminated.exitCode === 143) &&
        termination.terminated.reason !== 'OOMKilled' &&
        Number.isFinite(finished) &&
        finished >= (Number.isFinite(firstAt) ? firstAt : lastAt) - 5000;
      const classified = classifyProbeOutput(output, probe);
      const port = portInText(output);
      const found: ProbeFailures = {
        kind,
        view,
        pod,
        probe,
        failures,
        kills,
        latest,
        output,
        cause: classified.cause,
        sinceStart: startedAt !== undefined && lastAt >= startedAt,
        killed: kind !== 'readiness' && (kills.length > 0 || killedBySignal),
      };
      if (classified.statusCode !== undefined) found.statusCode = classified.statusCode;
      if (port) found.port = port;
      if (startedAt !== undefined) found.startedAt = startedAt;
      result.push(found);
    }
  }
  return result;
}

/** `httpGet /healthz on port 8080`, `tcpSocket on port 5432`, `exec cat /tmp/healthy`, `grpc on port 9090`. */
export function probeHandler(probe: Probe | undefined): string {
  if (!probe) return 'probe';
  if (probe.httpGet) return `httpGet ${probe.httpGet.scheme === 'HTTPS' ? 'https ' : ''}${probe.httpGet.path ?? '/'} on port ${probe.httpGet.port ?? '?'}`;
  if (probe.tcpSocket) return `tcpSocket on port ${probe.tcpSocket.port ?? '?'}`;
  if (probe.exec) return `exec ${(probe.exec.command ?? []).join(' ')}`;
  if (probe.grpc) return `grpc on port ${probe.grpc.port ?? '?'}`;
  return 'probe';
}

/** The port a probe connects to, as the spec gives it (a number or a port name). */
function probePort(probe: Probe | undefined): string | undefined {
  const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
  return port === undefined ? undefined : String(port);
}

/** The probe's timing with the Kubernetes defaults filled in. */
export function probeTiming(probe: Probe | undefined): { initialDelay: number; period: number; timeout: number; threshold: number } {
  return {
    initialDelay: probe?.initialDelaySeconds ?? 0,
    period: probe?.periodSeconds ?? 10,
    timeout: probe?.timeoutSeconds ?? 1,
    threshold: probe?.failureThreshold ?? 3,
  };
}

/** Evidence line with the probe's handler and settings, as the spec has them (defaults filled in). */
export function probeSettings(kind: ProbeKind, probe: Probe | undefined): string {
  if (!probe) return `${FIELD[kind]}: not in the pod spec kdiag read`;
  const t = probeTiming(probe);
  return `${FIELD[kind]}: ${probeHandler(probe)}, initialDelaySeconds=${t.initialDelay}, periodSeconds=${t.period}, timeoutSeconds=${t.timeout}, failureThreshold=${t.threshold}`;
}

/** A few words on how the probe fails, for titles: `HTTP 404 from /healthz`, `connection refused on port 8080`. */
export function failureSummary(pf: ProbeFailures): string {
  const t = probeTiming(pf.probe);
  switch (pf.cause) {
    case 'http-status':
      return `HTTP ${pf.statusCode ?? '?'}${pf.probe?.httpGet?.path ? ` from ${pf.probe.httpGet.path}` : ''}`;
    case 'connection-refused':
      return `connection refused on port ${pf.port ?? probePort(pf.probe) ?? '?'}`;
    case 'timeout':
      return pf.probe?.exec ? `command timed out after ${t.timeout}s` : `no answer within ${t.timeout}s`;
    case 'command-failed':
      return pf.probe?.exec?.command?.length ? `${firstLine(pf.probe.exec.command.join(' '), 60)} failed` : 'command failed';
    default: {
      const grpc = pf.output.match(/responded with "([A-Z_]+)"/)?.[1];
      if (grpc) return `gRPC health ${grpc}`;
      // `Get "http://...": read tcp a->b: read: connection reset by peer` -> `connection reset by peer`
      const tail = pf.output.replace(/^(?:Get|Head|Post) "[^"]*":\s*/, '').split(': ').pop() ?? '';
      return firstLine(tail, 80) || 'failed';
    }
  }
}

/** Evidence lines shared by the probe rules: the distinct failure messages, kills, settings and state. */
export function probeEvidence(pf: ProbeFailures): string[] {
  const byMessage = new Map<string, KubeEvent>();
  for (const event of pf.failures) byMessage.set(event.message ?? '', event);
  const distinct = [...byMessage.values()].sort((a, b) => eventTime(a) - eventTime(b)).slice(-3);
  const lines = distinct.map(eventEvidence);
  const kill = pf.kills[pf.kills.length - 1];
  if (kill) lines.push(eventEvidence(kill));
  lines.push(probeSettings(pf.kind, pf.probe));
  lines.push(...stateEvidence(pf.view));
  const termination = lastTermination(pf.view.status);
  if (pf.killed && termination) lines.push(`${termination.field}.exitCode=${termination.terminated.exitCode}${termination.terminated.reason ? ` (${termination.terminated.reason})` : ''}`);
  return lines;
}

/** What the failure means and what to change, with a reading: misconfigured probe, slow application, unhealthy application. */
export function interpret(context: RuleContext, pf: ProbeFailures): { meaning: string; reading: ProbeReading; fix: string } {
  // `fix` says what to change; for an 'unhealthy' reading that is the application, not the probe.
  const { probe, kind } = pf;
  const t = probeTiming(probe);
  const path = probe?.httpGet?.path ?? '/';
  const specPort = probePort(probe);
  const port = pf.port ?? specPort ?? '?';
  const named = specPort !== undefined && !/^\d+$/.test(specPort) && pf.port ? ` (port ${specPort} resolves to ${pf.port})` : '';
  switch (pf.cause) {
    case 'http-status': {
      const code = pf.statusCode ?? 0;
      if (code === 404)
        return {
          meaning: `The application answers on port ${port}${named} but returns 404 Not Found for ${path}: it does not serve that path. The probe is most likely misconfigured (a typo, a missing prefix such as /actuator/health or /api, or an endpoint that this version moved or only enables with a setting).`,
          reading: 'misconfigured',
          fix: `Point the ${kind} probe at a path the application serves`,
        };
      if (code === 401 || code === 403)
        return {
          meaning: `${path} answers ${code}: the endpoint requires credentials or refuses the kubelet, which sends none. The probe is misconfigured for this endpoint.`,
          reading: 'misconfigured',
          fix: `Probe an unauthenticated health path, or exempt ${path} from authentication`,
        };
      if (code >= 500)
        return {
          meaning: `${path} answers ${code}: the application runs and reports itself unhealthy, usually because something it checks (a database, a cache, a downstream service) is down or slow.${kind === 'liveness' ? ' A liveness check should not depend on other services: restarting this container does not bring a dependency back, and takes the container down with it.' : ''}`,
          reading: 'unhealthy',
          fix: kind === 'liveness' ? 'Fix what the health check reports, and keep dependency checks out of the liveness endpoint (readiness is the place for them)' : 'Fix what the health check reports (the log says which check fails)',
        };
      return {
        meaning: `${path} answers ${code}: the endpoint does not accept the request the probe makes (wrong path, method or expected host header). The probe is likely misconfigured.`,
        reading: 'misconfigured',
        fix: `Point the ${kind} probe at the application's health endpoint`,
      };
    }
    case 'connection-refused': {
      // The only ports kdiag knows are the probes' own: another probe of the same container on a
      // different port that does not fail shows where the application listens.
      const others = (['liveness', 'readiness', 'startup'] as const).filter((k) => k !== kind);
      const failing = new Set(eventsWithReason(context.index, pf.pod, 'Unhealthy').filter((e) => isAboutContainer(e, pf.view.status.name)).map((e) => PROBE_EVENT.exec(e.message ?? '')?.[1]?.toLowerCase()));
      const healthy = others.map((k) => ({ k, port: probePort(probeOf(pf.view, k)) })).find((o) => o.port !== undefined && o.port !== specPort && !failing.has(o.k));
      if (healthy)
        return {
          meaning: `Nothing accepts connections on port ${port}${named}, while the ${healthy.k} probe of the same container uses port ${healthy.port} and does not fail: the application listens there, so the ${kind} probe's port is most likely wrong.`,
          reading: 'misconfigured',
          fix: `Set the ${kind} probe's port to the one the application listens on (${healthy.port}?)`,
        };
      const window = t.initialDelay + t.threshold * t.period;
      if (kind === 'startup')
        return {
          meaning: `Nothing accepts connections on port ${port}${named} while the container starts: the application does not open it within the budget (it starts slower than that), listens on another port, or binds to 127.0.0.1 only. Its log tells whether it was still starting when it was killed.`,
          reading: 'slow',
          fix: 'If the application needs longer to start, raise the startup probe\'s failureThreshold; otherwise fix its port',
        };
      const lasting = pf.sinceStart && pf.startedAt !== undefined ? eventTime(pf.latest) - pf.startedAt : undefined;
      if (lasting !== undefined && lasting > (window + 60) * 1000)
        return {
          meaning: `Nothing accepts connections on port ${port}${named}, and the refusals go on ${age(lasting)} after the container started, so this is not a slow start: the port is most likely wrong, or the application listens on 127.0.0.1 only (the kubelet connects to the pod IP).`,
          reading: 'misconfigured',
          fix: `Check the port the application listens on and its bind address, and fix the ${kind} probe's port or the application's`,
        };
      return {
        meaning: `Nothing accepts connections on port ${port}${named}: the application has not opened it yet (still starting), listens on another port, or binds to 127.0.0.1 only. The kubelet gives it initialDelaySeconds=${t.initialDelay} plus failureThreshold=${t.threshold} × periodSeconds=${t.period}, ${window}s in all.`,
        reading: kind === 'readiness' ? 'unknown' : 'slow',
        fix: 'If the application needs longer to start, add a startupProbe (or a longer initialDelaySeconds); otherwise fix the probe\'s port',
      };
    }
    case 'timeout': {
      const what = probe?.exec ? `The probe command ${firstLine((probe.exec.command ?? []).join(' '), 80)} did not finish` : `${probeHandler(probe)} did not answer`;
      return {
        meaning: `${what} within timeoutSeconds=${t.timeout}${probe?.timeoutSeconds === undefined ? ' (the default)' : ''}. The application is slow to answer (busy, CPU-throttled, in a garbage-collection pause, or its health handler waits on slow dependencies), or still starting. This points to a probe too strict for the application rather than a broken one.`,
        reading: 'slow',
        fix:
          kind === 'startup'
            ? `Raise the startup probe's timeoutSeconds (now ${t.timeout}s) or failureThreshold (now ${t.threshold})`
            : `Raise the ${kind} probe's timeoutSeconds (now ${t.timeout}s)${kind === 'liveness' ? ', and add a startupProbe if it fails only while the application starts' : ''}`,
      };
    }
    case 'command-failed': {
      const command = firstLine((probe?.exec?.command ?? []).join(' '), 120) || 'the probe command';
      // The runtime's words for a command it cannot run, not the command's own complaint ("cat: can't open '/tmp/ready'").
      const missing = /executable file not found|command not found|not found in \$PATH|OCI runtime exec failed|exec format error|permission denied|cannot execute/i.test(pf.output);
      return {
        meaning: `The probe command ${command} exited non-zero${pf.output ? `, printing: ${firstLine(pf.output, 200)}` : ' without printing anything'}.${missing ? ' The command does not exist in the image, or cannot run there: the probe is misconfigured.' : ' The check it makes fails: what it checks is not there yet, or is broken.'}`,
        reading: missing ? 'misconfigured' : 'unhealthy',
        fix: missing ? `Use a ${kind} probe command that exists in the image` : 'Find out why the check fails (run the command in the container)',
      };
    }
    default: {
      const grpc = pf.output.match(/responded with "([A-Z_]+)"/)?.[1];
      if (grpc === 'SERVICE_UNKNOWN')
        return {
          meaning: `The gRPC health service answers SERVICE_UNKNOWN: it does not know the service name the probe asks for (grpc.service=${JSON.stringify(probe?.grpc?.service ?? '')}). The probe is misconfigured, or the application registers its health status under another name.`,
          reading: 'misconfigured',
          fix: `Set the ${kind} probe's grpc.service to a name the application registers (empty for the server as a whole)`,
        };
      if (grpc)
        return {
          meaning: `The gRPC health service answers ${grpc}: the application runs and reports itself not serving, usually because something it depends on is down.`,
          reading: 'unhealthy',
          fix: 'Fix what the application reports as not serving (its log says why)',
        };
      return {
        meaning: `The probe failed: ${firstLine(pf.output, 240) || '(no output)'}.`,
        reading: 'unknown',
        fix: `Check the ${kind} probe against what the application serves`,
      };
    }
  }
}

/** Steps to see what the kubelet sees: forward the probe port and ask it, or run the probe command. */
export function probeCheckSteps(pf: ProbeFailures): RemediationStep[] {
  const { pod, probe, view } = pf;
  if (!view.status.state?.running) return [];
  const name = view.status.name;
  const ns = nsFlag(pod.metadata.namespace);
  if (probe?.exec?.command?.length) {
    return [{ description: 'Run the probe command in the container and see what it prints', command: `kubectl exec ${ns}${pod.metadata.name} -c ${name} -- ${probe.exec.command.map(shellQuote).join(' ')}` }];
  }
  const spec = probePort(probe);
  const port = pf.port ?? (spec && /^\d+$/.test(spec) ? spec : '<port>');
  const steps: RemediationStep[] = [{ description: 'Forward the probe port to your machine (leave it running)', command: `kubectl port-forward ${ns}pod/${pod.metadata.name} ${port}:${port}` }];
  if (probe?.httpGet) {
    const scheme = probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http';
    steps.push({ description: 'In another terminal, ask the endpoint what the kubelet asks', command: `curl -i${scheme === 'https' ? 'k' : ''} ${shellQuote(`${scheme}://localhost:${port}${probe.httpGet.path ?? '/'}`)}` });
  } else if (probe?.grpc) {
    steps.push({ description: 'In another terminal, ask the gRPC health service what the kubelet asks', command: `grpcurl -plaintext -d ${shellQuote(JSON.stringify({ service: probe.grpc.service ?? '' }))} localhost:${port} grpc.health.v1.Health/Check` });
  } else if (probe?.tcpSocket) {
    steps.push({ description: 'In another terminal, see whether the port accepts a connection', command: `nc -vz localhost ${port}` });
  }
  return steps;
}

/**
 * The step that changes the probe: edit the workload's pod template (a bare pod must be recreated).
 * When the application itself reports unhealthy, the probe is right and the step only says what to fix.
 */
export function fixStep(context: RuleContext, pf: ProbeFailures, reading: { reading: ProbeReading; fix: string }): RemediationStep {
  if (reading.reading === 'unhealthy') return { description: reading.fix };
  const description = reading.fix;
  const target = kubectl.target(pf.pod, context.index);
  return {
    description: target.startsWith('pod/') ? `${description} (a pod's probes cannot be changed in place: recreate the pod)` : `${description}: edit ${FIELD[pf.kind]} of container ${pf.view.status.name}`,
    command: target.startsWith('pod/') ? `kubectl get ${nsFlag(pf.pod.metadata.namespace)}${target} -o yaml` : `kubectl edit ${target} ${nsFlag(pf.pod.metadata.namespace)}`.trimEnd(),
  };
}

/** How long the pod has been not Ready, from its Ready condition, or undefined when it is Ready. */
export function notReadyFor(pod: Pod, now: number): number | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return ready && ready.status !== 'True' ? msSince(ready.lastTransitionTime, now) : undefined;
}
