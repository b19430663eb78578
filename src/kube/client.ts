import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';

/**
 * @kubernetes/client-node's KubeConfig, without loading what kdiag's use of it never needs.
 *
 * The package's dist/config.js (KubeConfig: kubeconfig parsing, TLS material, token files, exec
 * credential and auth-provider plugins, proxies) imports './gen/index.js', which evaluates some 900
 * modules (every API group and model) for two names that only makeApiClient uses; and, at the top
 * of config.js and its auth-provider modules, libraries that only one kind of kubeconfig uses:
 * openid-client (OIDC token refresh), jsonpath-plus (Azure and GCP auth providers), the proxy
 * agents (proxy-url) and node-fetch (applyToFetchOptions). Importing the package as is costs about
 * 0.3 s and 40 MB before the first request; those libraries alone about 60 ms more.
 *
 * So this module evaluates the package's own config.js source (and its auth-provider modules'),
 * with each import resolved where node would resolve it, except the imports above: each becomes a
 * binding that loads the real export (with require, from client-node's directory) the first time
 * it is used. Everything KubeConfig does is client-node's code, run as written.
 *
 * If a source does not look as expected (another client-node version) or an import cannot be
 * resolved, the package is imported as is: slower, same behaviour.
 */

type KubeConfigClass = typeof KubeConfig;

const require = createRequire(import.meta.url);

/** `import ... from '...'` statements (also spread over several lines), with their specifier. */
const IMPORT = /^(import\s([^'";]*?)\sfrom\s*)(['"])([^'"\n]+)\3;?[ \t]*$/gm;

/**
 * Per client-node file: the imports loaded on first use. Relative imports of config.js to files
 * listed here are themselves rewritten (their libraries are deferred within them).
 */
const DEFERRED: Record<string, readonly string[]> = {
  'config.js': ['./gen/index.js', 'node-fetch', 'socks-proxy-agent', 'hpagent'],
  'oidc_auth.js': ['openid-client'],
  'azure_auth.js': ['jsonpath-plus'],
  'gcp_auth.js': ['jsonpath-plus'],
};

/** A bare specifier (`js-yaml`, `@scope/pkg/sub`) resolved as node would from `fromFile`. */
function resolveBare(specifier: string, fromFile: string): string {
  // For import, a package's "import" condition may name another file than require's: take the
  // import resolution from here when it lands in the very package directory client-node sees.
  const required = createRequire(fromFile).resolve(specifier);
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  const at = required.lastIndexOf(marker);
  if (at >= 0) {
    const packageDir = required.slice(0, at + marker.length);
    try {
      const imported = import.meta.resolve(specifier);
      if (imported.startsWith(pathToFileURL(packageDir).href)) return imported;
    } catch {
      // Not resolvable from here: keep require's answer.
    }
  }
  return pathToFileURL(required).href;
}

const dataUrl = (source: string) => `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * A module standing for `specifier` as imported from `fromFile`: each name is a stand-in that, on
 * first use (call, new, property), requires the real module and forwards to its export.
 */
function deferredModule(specifier: string, fromFile: string, names: string[]): string {
  createRequire(fromFile).resolve(specifier); // fails now, not on first use, when it cannot be found
  const lines = [
    `import { createRequire } from 'node:module';`,
    `const require = createRequire(${JSON.stringify(pathToFileURL(fromFile).href)});`,
    `let real;`,
    `const load = () => (real ??= require(${JSON.stringify(specifier)}));`,
    `const later = (name) => new Proxy(function () {}, {`,
    `  construct: (_, args) => Reflect.construct(load()[name], args),`,
    `  apply: (_, self, args) => Reflect.apply(load()[name], self, args),`,
    `  get: (_, key) => Reflect.get(load()[name], key),`,
    `});`,
    ...names.map((name) => `export const ${name} = later(${JSON.stringify(name)});`),
  ];
  return lines.join('\n');
}

/** The names an import clause binds from its module (`{ a, b as c }`, `* as ns` with the ns.x used in `rest`, the module without this import); undefined for anything else. */
function importedNames(clause: string, rest: () => string): string[] | undefined {
  const named = /^\{([^}]*)\}$/.exec(clause.trim());
  if (named) {
    const names = named[1]!.split(',').map((part) => part.trim().split(/\s+as\s+/)[0]!.trim()).filter(Boolean);
    return names.every((n) => IDENTIFIER.test(n)) ? names : undefined;
  }
  const star = /^\*\s+as\s+([A-Za-z_$][\w$]*)$/.exec(clause.trim());
  if (star) {
    const ns = star[1]!;
    // Only member uses (ns.name) can be stood in for: the namespace itself must not be passed around.
    // (Comments and string literals, where the word may appear too, are left out of the search.)
    const code = rest().replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, ' ');
    const uses = [...code.matchAll(new RegExp(`(?<![\\w$.])${ns.replace(/\$/g, '\\$')}(?![\\w$])(\\.?)([A-Za-z_$][\\w$]*)?`, 'g'))];
    if (uses.some((m) => m[1] !== '.' || !m[2])) return undefined;
    return [...new Set(uses.map((m) => m[2]!))];
  }
  return undefined;
}

/** A client-node file's source with its imports resolved to absolute URLs, some deferred; undefined if that fails. */
function rewrittenSource(file: string, depth = 0, source = readFileSync(file, 'utf8')): string | undefined {
  const deferred = DEFERRED[path.basename(file)] ?? [];
  let failed = false;
  const rewritten = source.replace(IMPORT, (statement, head: string, clause: string, _quote: string, specifier: string) => {
    if (specifier.startsWith('node:') || failed) return statement;
    try {
      if (deferred.includes(specifier)) {
        const names = importedNames(clause, () => source.replace(statement, ''));
        if (!names) throw new Error(`cannot defer ${specifier}`);
        return `${head}${JSON.stringify(dataUrl(deferredModule(specifier, file, names)))};`;
      }
      if (specifier.startsWith('./') || specifier.startsWith('../')) {
        const target = path.resolve(path.dirname(file), specifier);
        if (depth === 0 && DEFERRED[path.basename(target)]) {
          const inner = rewrittenSource(target, depth + 1);
          if (inner === undefined) throw new Error(`cannot rewrite ${specifier}`);
          return `${head}${JSON.stringify(dataUrl(inner))};`;
        }
        return `${head}${JSON.stringify(pathToFileURL(target).href)};`;
      }
      return `${head}${JSON.stringify(resolveBare(specifier, file))};`;
    } catch {
      failed = true;
      return statement;
    }
  });
  // Anything left that a data: module could not resolve (a relative or bare specifier, import.meta,
  // a dynamic import) means the source is not what this expects: use the package as is.
  const leftover = /\bfrom\s*['"](?!file:|node:|data:)|\bimport\s*\(|import\.meta|^\s*import\s*['"]/m;
  if (failed || leftover.test(rewritten)) return undefined;
  return rewritten;
}

/** client-node's config.js, rewritten; undefined if that fails or its generated client import is not where expected. */
function rewrittenConfigSource(): string | undefined {
  try {
    const file = require.resolve('@kubernetes/client-node/dist/config.js');
    // Without the generated client deferred, the rewrite would save nothing worth its risk.
    const source = readFileSync(file, 'utf8');
    if (!/^import\s[^;]*\sfrom\s*['"]\.\/gen\/index\.js['"]/m.test(source)) return undefined;
    return rewrittenSource(file, 0, source);
  } catch {
    return undefined;
  }
}

let loading: Promise<KubeConfigClass> | undefined;
let origin: 'without-generated-client' | 'package' | undefined;

/** How the class was loaded (for tests and --debug): undefined until loadKubeConfigClass resolves. */
export function kubeConfigOrigin(): typeof origin {
  return origin;
}

/** client-node's KubeConfig class, loaded once, without its generated API client when possible. */
export function loadKubeConfigClass(): Promise<KubeConfigClass> {
  loading ??= (async () => {
    const source = rewrittenConfigSource();
    if (source) {
      try {
        const module = (await import(dataUrl(source))) as { KubeConfig?: KubeConfigClass };
        if (typeof module.KubeConfig === 'function') {
          origin = 'without-generated-client';
          return module.KubeConfig;
        }
      } catch {
        // Fall through to the package as is.
      }
    }
    const module = await import('@kubernetes/client-node/dist/config.js');
    origin = 'package';
    return module.KubeConfig;
  })();
  return loading;
}
