import { execFile, execFileSync } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import type { OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from '@jest/globals';
import type { Report } from '../../src/model/report.js';
import type { ApiServer } from './api-server.js';
import { ROOT } from './fixtures.js';

/** What a child process did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a program to completion (bounded by timeoutMs) with exactly this environment, in cwd if given. */
export function runProgram(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000, cwd?: string): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - started });
    });
    child.stdin?.end();
  });
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Whether a program is on the PATH. */
export function onPath(program: string): boolean {
  try {
    execFileSync('which', [program], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A direct answer from the test API server. */
export interface DirectAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request straight to the test API server, trusting its CA, with the bearer token unless other
 * credentials are given. Rejects on a network error (reset) or after timeoutMs without an answer.
 */
export function direct(
  server: ApiServer,
  pathAndQuery: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; auth?: 'token' | 'none' | { cert: string; key: string }; timeoutMs?: number } = {},
): Promise<DirectAnswer> {
  const auth = options.auth ?? 'token';
  const headers: OutgoingHttpHeaders = { Accept: 'application/json', ...options.headers };
  if (auth === 'token') headers.Authorization = `Bearer ${server.secrets.token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}${pathAndQuery}`,
      {
        method: options.method ?? 'GET',
        headers,
        ca: server.pki.caCert,
        agent: false,
        ...(typeof auth === 'object' ? { cert: auth.cert, key: auth.key } : {}),
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The environment the CLI tests run kdiag offline in: this one with no kubeconfig, no colour and no jest NODE_OPTIONS. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', KUBECONFIG: path.join(tmpdir(), 'kdiag-test-no-such-kubeconfig') };
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not the CLI's business
  delete env.FORCE_COLOR;
  return env;
}

/**
 * Run the built kdiag binary offline (offlineEnv()), feeding `input` on stdin: how the CLI tests
 * run it on recorded snapshots.
 */
export function runKdiagOffline(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = offlineEnv();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [path.join(ROOT, 'bin', 'kdiag.js'), ...args], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(input ?? '');
  });
}

/** The JSON report of a run that wrote nothing on stderr. */
export function report(result: Pick<RunResult, 'stdout' | 'stderr'>): Report {
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Report;
}

/** An error case: the exit code, nothing on stdout, one `kdiag:` line on stderr and no stack. */
export function expectOneLineError(result: Pick<RunResult, 'code' | 'stdout' | 'stderr'>, code: number, pattern: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr).not.toContain('    at ');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kdiag: /);
  expect(lines[0]).toMatch(pattern);
}
