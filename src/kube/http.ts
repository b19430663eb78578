import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ClusterError } from '../model/errors.js';
import { firstLine, neutralize } from '../model/text.js';
import { VERSION } from '../model/version.js';
import { withoutManagedFields } from './managed-fields.js';

/**
 * GET-only access to the API server. @kubernetes/client-node supplies what is hard to get right
 * (kubeconfig, TLS material, bearer tokens, exec credential plugins, proxies); the request itself is
 * a plain GET whose JSON body is parsed once, in the API's own shape, with no typed deserialisation
 * (which would turn timestamps into Dates and cost a second pass over every object).
 */

/** A non-2xx answer from the API server, with the Status it carried. */
export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiStatusError';
  }
}

export interface HttpOptions {
  /** Bound on each request, like kubectl's --request-timeout. */
  timeoutMs: number;
  /** Retries for 429 / 5xx / connection resets, with backoff. */
  retries?: number;
  /** Called for every request made (method, path, status), e.g. for --debug. */
  onRequest?: (line: string) => void;
}


/** A watch in progress: see KubeHttp.stream. */
export interface JsonStream {
  /** Resolves when the server ends the stream or close() is called; rejects when it breaks. */
  done: Promise<void>;
  /** Stop reading and drop the connection. */
  close(): void;
}

/** Longest line a watch stream may send (an object is at most 1.5 MB in etcd). */
const MAX_STREAM_LINE = 16 * 1024 * 1024;

/** Transient failures worth another try. */
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The GET-only API client used by the fetcher. */
export class KubeHttp {
  private prepared?: Promise<https.RequestOptions>;
  private readonly base: URL;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: HttpOptions,
  ) {
    const server = kc.getCurrentCluster()?.server ?? '';
    try {
      this.base = new URL(server);
    } catch {
      throw new ClusterError(`the kubeconfig's server "${server}" is not a URL`);
    }
  }

  get server(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  /** Request options with TLS material and credentials, computed once (an exec plugin runs once). */
  private prepare(): Promise<https.RequestOptions> {
    this.prepared ??= (async () => {
      const opts: https.RequestOptions = { headers: {} };
      try {
        await this.kc.applyToHTTPSOptions(opts);
      } catch (error) {
        throw credentialError(error, this.kc);
      }
      const cluster = this.kc.getCurrentCluster();
      if (!cluster?.proxyUrl) {
        // Our own agent, for keep-alive across the many parallel reads of one run. Its TLS context
        // (CA, client certificate and key) is made once: left to the agent, every new connection
        // would parse them again (about 2 ms each, and a sweep opens up to 16).
        let secureContext: tls.SecureContext | undefined;
        if (this.base.protocol !== 'http:') {
          try {
            secureContext = tls.createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase });
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            throw new ClusterError(`the TLS material of context "${this.kc.getCurrentContext()}" cannot be used: ${neutralize(firstLine(message))}`);
          }
        }
        const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: 16, servername: opts.servername, secureContext };
        if (opts.rejectUnauthorized !== undefined) agentOptions.rejectUnauthorized = opts.rejectUnauthorized;
        opts.agent = this.base.protocol === 'http:' ? new http.Agent({ keepAlive: true, maxSockets: 16 }) : new https.Agent(agentOptions);
      }
      return opts;
    })();
    return this.prepared;
  }

  /** Close kept-alive sockets so the process can exit. */
  close(): void {
    void this.prepared?.then((opts) => (opts.agent as http.Agent | undefined)?.destroy?.()).catch(() => undefined);
  }

  /**
   * GET a path (with query) and parse its JSON body, without the managedFields kdiag never reads
   * (see managed-fields.ts); retries transient failures. For a list,
   * `onContinue` hears its continue token as soon as the first bytes of a 2xx answer carry it
   * (before the rest arrives): the caller may ask for the next page meanwhile. It may be called
   * again by a retry; nothing is called when the head does not say (see listContinue).
   */
  async getJson(pathname: string, query: Record<string, string | number | boolean | undefined> = {}, onContinue?: (token: string) => void, parse?: (bytes: Buffer) => unknown): Promise<unknown> {
    const bytes = await this.get(pathname, query, 'application/json', onContinue, true);
    try {
      // `parse`: a reader of its own for the (managedFields-free) bytes; it may wait before it answers.
      return parse ? await parse(bytes) : JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new ClusterError(`the API server at ${this.server} answered ${pathname} with something that is not JSON`);
    }
  }

  /** GET a path and return its body as text (pod logs). */
  async getText(pathname: string, query: Record<string, string | number | boolean | undefined> = {}, accept = '*/*', onContinue?: (token: string) => void): Promise<string> {
    return (await this.get(pathname, query, accept, onContinue, false)).toString('utf8');
  }

  /** The body's bytes; for JSON (`json`) without metadata.managedFields. */
  private async get(pathname: string, query: Record<string, string | number | boolean | undefined>, accept: string, onContinue: ((token: string) => void) | undefined, json: boolean): Promise<Buffer> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + pathname, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const retries = this.options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(url, accept, onContinue, json);
      } catch (error) {
        const retryAfter = retryDelay(error, attempt);
        if (attempt >= retries || retryAfter === undefined) throw error;
        await sleep(retryAfter);
      }
    }
  }

  /**
   * A watch (`?watch=true`): GET a path whose answer is a stream of JSON documents, one per line,
   * and hand each to `onValue` as it arrives. Resolves once a 2xx answer's headers are in; its
   * `done` resolves when the server ends the stream (or close() is called) and rejects when the
   * connection breaks, stays silent for `idleMs`, sends a line that is not JSON, or onValue throws.
   * A non-2xx answer rejects as getJson's do (ApiStatusError, ClusterError). No retries: the
   * caller watches again from where it was. Only GET, like everything here.
   */
  async stream(pathname: string, query: Record<string, string | number | boolean | undefined>, onValue: (value: unknown) => void, idleMs: number): Promise<JsonStream> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + pathname, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts = await this.prepare();
    const transport = url.protocol === 'http:' ? http : https;
    const started = Date.now();
    const line = (status: number) => `GET ${url.pathname}${url.search} -> ${status} (${Date.now() - started} ms)`;
    return new Promise<JsonStream>((resolveOpen, rejectOpen) => {
      let opened = false;
      let fail: (error: Error) => void = rejectOpen;
      const req = transport.request(
        url,
        {
          ...opts,
          method: 'GET',
          headers: { ...opts.headers, Accept: 'application/json', 'User-Agent': `kdiag/${VERSION}` },
          timeout: this.options.timeoutMs || undefined,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', (error) => rejectOpen(networkError(error, this.server)));
            res.on('end', () => {
              this.options.onRequest?.(line(status));
              rejectOpen(statusError(status, Buffer.concat(chunks).toString('utf8'), res.headers['retry-after'], this.server, this.kc.getCurrentContext()));
            });
            return;
          }
          this.options.onRequest?.(`${line(status)} watching`);
          opened = true;
          // From here the bound is on silence, not on the whole answer.
          req.setTimeout(idleMs);
          let finished = false;
          let settle!: (error?: Error) => void;
          const done = new Promise<void>((resolve, reject) => {
            settle = (error) => {
              if (finished) return;
              finished = true;
              if (!error) return resolve();
              req.destroy();
              reject(error);
            };
          });
          fail = (error) => settle(error);
          const decoder = new StringDecoder('utf8');
          let buffered = '';
          const take = (text: string): boolean => {
            const trimmed = text.trim();
            if (!trimmed) return true;
            let value: unknown;
            try {
              value = JSON.parse(trimmed);
            } catch {
              settle(new ClusterError(`the API server at ${this.server} sent a watch line of ${url.pathname} that is not JSON`));
              return false;
            }
            try {
              onValue(value);
            } catch (error) {
              settle(error instanceof Error ? error : new Error(String(error)));
              return false;
            }
            return true;
          };
          res.on('data', (chunk: Buffer) => {
            if (finished) return;
            let from = buffered.length;
            buffered += decoder.write(chunk);
            let newline: number;
            while ((newline = buffered.indexOf('\n', from)) >= 0) {
              const text = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              from = 0;
              if (!take(text)) return;
            }
            if (buffered.length > MAX_STREAM_LINE) settle(new ClusterError(`the API server at ${this.server} sent a watch line of ${url.pathname} longer than 16 MB`));
          });
          res.on('end', () => {
            if (!finished && take(buffered + decoder.end())) settle();
          });
          res.on('error', (error) => settle(networkError(error, this.server)));
          res.on('close', () => {
            if (!res.complete) settle(new TransientError(`the watch of ${url.pathname} on ${this.server} was cut off`));
          });
          resolveOpen({
            done,
            close: () => {
              settle();
              req.destroy();
            },
          });
        },
      );
      req.on('timeout', () => {
        req.destroy(
          opened
            ? new TransientError(`the watch of ${url.pathname} on ${this.server} was silent for ${Math.round(idleMs / 1000)}s`)
            : new ClusterError(`the API server at ${this.server} did not answer within ${this.options.timeoutMs / 1000}s (--request-timeout)`),
        );
      });
      req.on('error', (error) => {
        const failure = error instanceof ClusterError ? error : networkError(error, this.server);
        if (opened) fail(failure);
        else rejectOpen(failure);
      });
      req.end();
    });
  }

  private async once(url: URL, accept: string, onContinue: ((token: string) => void) | undefined, json: boolean): Promise<Buffer> {
    const opts = await this.prepare();
    const transport = url.protocol === 'http:' ? http : https;
    const started = Date.now();
    return new Promise<Buffer>((resolve, reject) => {
      const req = transport.request(
        url,
        {
          ...opts,
          method: 'GET',
          headers: { ...opts.headers, Accept: accept, 'User-Agent': `kdiag/${VERSION}` },
          timeout: this.options.timeoutMs || undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          let head = onContinue && ok ? '' : undefined;
          res.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            if (head === undefined) return;
            // The list's metadata comes before its items: read it from the first bytes.
            head += chunk.toString('latin1', 0, Math.min(chunk.length, MAX_LIST_HEAD));
            const token = listContinue(head);
            if (token !== null || head.length >= MAX_LIST_HEAD) head = undefined;
            if (token) onContinue!(token);
          });
          res.on('error', (error) => reject(networkError(error, this.server)));
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            this.options.onRequest?.(`GET ${url.pathname}${url.search} -> ${status} (${Date.now() - started} ms)`);
            if (ok) return resolve(json ? withoutManagedFields(bytes) : bytes);
            reject(statusError(status, bytes.toString('utf8'), res.headers['retry-after'], this.server, this.kc.getCurrentContext()));
          });
        },
      );
      req.on('timeout', () => {
        req.destroy(new ClusterError(`the API server at ${this.server} did not answer within ${this.options.timeoutMs / 1000}s (--request-timeout)`));
      });
      req.on('error', (error) => reject(error instanceof ClusterError ? error : networkError(error, this.server)));
      req.end();
    });
  }
}

/** How far into an answer the list metadata is looked for. */
const MAX_LIST_HEAD = 64 * 1024;

/**
 * The continue token of a JSON list from the start of its text, as the API server writes it:
 * `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"..","continue":".."},"items":[`.
 * A string: the token ('' when the list's metadata names none, on its last page); null when the
 * text does not tell (yet): no "items" key, or no flat metadata object before it.
 */
export function listContinue(head: string): string | null {
  const items = head.indexOf('"items"');
  if (items < 0) return null;
  const match = /^\s*\{(?:\s*"(?:kind|apiVersion)"\s*:\s*"[^"\\]*"\s*,)*\s*"metadata"\s*:\s*(\{[^{}]*\})\s*,\s*$/.exec(head.slice(0, items));
  if (!match) return null;
  try {
    const meta = JSON.parse(match[1]!) as { continue?: unknown };
    return typeof meta.continue === 'string' ? meta.continue : '';
  } catch {
    return null;
  }
}

/** Milliseconds to wait before retrying, or undefined when the error is not transient. */
function retryDelay(error: unknown, attempt: number): number | undefined {
  const backoff = Math.min(2000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
  if (error instanceof ApiStatusError && RETRY_STATUS.has(error.status)) {
    const retryAfter = (error as ApiStatusError & { retryAfterMs?: number }).retryAfterMs;
    return retryAfter !== undefined ? Math.min(retryAfter, 10_000) : backoff;
  }
  if (error instanceof TransientError) return backoff;
  return undefined;
}

/**
 * Why the credentials could not be had, in one line. For an exec credential plugin (client-node
 * rejects with the plugin's stderr, or with JSON.parse's error on what it printed), name the plugin
 * and never quote its stdout: that is where the token is.
 */
function credentialError(error: unknown, kc: KubeConfig): ClusterError {
  const context = kc.getCurrentContext();
  const message = error instanceof Error ? error.message : String(error);
  const exec = (kc.getCurrentUser()?.exec ?? undefined) as { command?: unknown } | undefined;
  if (!exec) return new ClusterError(`cannot get credentials for context "${context}": ${neutralize(firstLine(message))}`);
  const plugin = `the exec credential plugin "${neutralize(String(exec.command ?? ''), 200)}" of context "${context}"`;
  if (error instanceof SyntaxError) return new ClusterError(`${plugin} printed something that is not an ExecCredential (not JSON)`);
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'EACCES') return new ClusterError(`${plugin} could not be run: ${code === 'ENOENT' ? 'no such command' : 'permission denied'}`);
  const said = neutralize(firstLine(message));
  return new ClusterError(`${plugin} failed: ${said || 'it exited without a credential and wrote nothing on stderr'}`);
}

/** A connection that broke mid-way; worth another try. */
class TransientError extends ClusterError {}

/** 401: the credentials were refused; trying again with them will not help. */
export class UnauthorizedError extends ClusterError {}

function networkError(error: Error & { code?: string }, server: string): ClusterError {
  const code = error.code ?? '';
  if (RETRY_CODES.has(code)) return new TransientError(`the connection to ${server} was reset`, error.message);
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'DNS lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed and not trusted by the kubeconfig',
    SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain is not trusted by the kubeconfig',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not trusted by the kubeconfig',
    ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate does not name this host',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  };
  return new ClusterError(`cannot reach the API server at ${server}: ${why[code] ?? error.message.split('\n')[0]}`, `${code} ${error.message}`);
}

function statusError(status: number, body: string, retryAfter: string | string[] | undefined, server: string, context: string): Error {
  if (status === 401) {
    return new UnauthorizedError(
      `unauthorized (401) by ${server}: the credentials of context "${context}" were refused; the token may have expired or the exec credential plugin failed to refresh it`,
    );
  }
  let reason = '';
  let message = body.slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; message?: unknown };
    if (typeof parsed.reason === 'string') reason = parsed.reason;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not a Status object: keep the start of the raw body.
  }
  const error = new ApiStatusError(status, reason, message || `HTTP ${status}`) as ApiStatusError & { retryAfterMs?: number };
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) error.retryAfterMs = seconds * 1000;
  return error;
}
