/**
 * Module resolution hooks (registered by ./client.ts, they run on node's loader thread) that keep
 * @kubernetes/client-node's KubeConfig from loading the whole generated API client. Its config.js
 * imports './gen/index.js', which evaluates some 900 modules (every API group and model) for two
 * names that only makeApiClient uses: createConfiguration and ServerConfiguration. That import is
 * pointed at ./client-gen.js, which exports exactly those two from the same package, so KubeConfig,
 * its kubeconfig parsing, TLS options, token files, exec and auth-provider plugins are unchanged.
 */

interface ResolveContext {
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;

let genUrl: string | undefined;

export function initialize(data: { gen: string }): void {
  genUrl = data.gen;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  if (genUrl && specifier === './gen/index.js' && context.parentURL?.endsWith('/@kubernetes/client-node/dist/config.js')) {
    return { url: genUrl, shortCircuit: true };
  }
  return next(specifier, context);
}
