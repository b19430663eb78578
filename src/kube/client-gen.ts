/**
 * What @kubernetes/client-node's config.js takes from its generated client ('./gen/index.js'),
 * without the rest of it: see ./client-hooks.ts.
 */
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
