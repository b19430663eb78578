import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';

/**
 * @kubernetes/client-node's KubeConfig, without the generated API client it drags in.
 *
 * The package's dist/config.js (KubeConfig: kubeconfig parsing, TLS material, token files, exec
 * credential and auth-provider plugins, proxies) imports './gen/index.js', which evaluates some 900
 * modules (every API group and model) for two names that only makeApiClient uses. Importing it as
 * is costs about 0.3 s and 40 MB before the first request. So this module evaluates the package's
 * own config.js source with each import resolved where node would resolve it, except that one,
 * which goes to ./client-gen.js (the same two names, from the same package). Everything KubeConfig
 * does is client-node's code; only the unused generated client stays unloaded.
 *
 * If the source does not look as expected (another client-node version) or an import cannot be
 * resolved, the package is imported as is: slower, same behaviour.
 */

type KubeConfigClass = typeof KubeConfig;

const require = createRequire(import.meta.url);

/** `import ... from '...'` statements (also spread over several lines), with their specifier. */
const IMPORT = /^(import\s[^'";]*?\sfrom\s*)(['"])([^'"\n]+)\2;?[ \t]*$/gm;

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

/** client-node's config.js with its imports resolved to absolute URLs; undefined if that fails. */
function rewrittenConfigSource(): string | undefined {
  try {
    const file = require.resolve('@kubernetes/client-node/dist/config.js');
    const source = readFileSync(file, 'utf8');
    let sawGen = false;
    let unresolved = false;
    const rewritten = source.replace(IMPORT, (statement, head: string, _quote: string, specifier: string) => {
      if (specifier.startsWith('node:')) return statement;
      let url: string;
      if (specifier === './gen/index.js') {
        sawGen = true;
        url = new URL('./client-gen.js', import.meta.url).href;
      } else if (specifier.startsWith('./') || specifier.startsWith('../')) {
        url = pathToFileURL(path.resolve(path.dirname(file), specifier)).href;
      } else {
        try {
          url = resolveBare(specifier, file);
        } catch {
          unresolved = true;
          return statement;
        }
      }
      return `${head}${JSON.stringify(url)};`;
    });
    // Anything left that a data: module could not resolve (a relative or bare specifier, import.meta,
    // a dynamic import) means the source is not what this expects: use the package as is.
    const leftover = /\bfrom\s*['"](?!file:|node:)|\bimport\s*\(|import\.meta|^\s*import\s*['"]/m;
    if (!sawGen || unresolved || leftover.test(rewritten)) return undefined;
    return rewritten;
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
        const module = (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as { KubeConfig?: KubeConfigClass };
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
