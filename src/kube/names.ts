import { declaredReadsOnly } from './fetch.js';
import type { KubeHttp } from './http.js';

/**
 * Names for shell completion: the namespaces of the cluster, or the pods of a namespace. One GET
 * (a list, first page only) through the fetcher's read check, asking for a server-side Table so
 * that only names and metadata travel; a server that cannot make Tables sends the plain list.
 */

/** What kubectl asks for: a Table, else the plain list. */
const TABLE_OR_LIST = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

type Raw = Record<string, unknown>;
const isObj = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

function nameOf(x: unknown): string | undefined {
  const meta = isObj(x) && isObj(x.metadata) ? x.metadata : undefined;
  return typeof meta?.name === 'string' ? meta.name : undefined;
}

/** The names in a Table (its rows' objects, else its Name column) or a List. */
function namesIn(answer: unknown): string[] {
  if (!isObj(answer)) return [];
  if (answer.kind === 'Table' && Array.isArray(answer.rows)) {
    const columns = Array.isArray(answer.columnDefinitions) ? answer.columnDefinitions : [];
    const nameColumn = columns.findIndex((c) => isObj(c) && c.name === 'Name');
    return answer.rows
      .map((row) => (isObj(row) ? (nameOf(row.object) ?? (Array.isArray(row.cells) ? row.cells[nameColumn < 0 ? 0 : nameColumn] : undefined)) : undefined))
      .filter((name): name is string => typeof name === 'string');
  }
  if (!Array.isArray(answer.items)) return [];
  return answer.items.map(nameOf).filter((name): name is string => name !== undefined);
}

/** Names of the cluster's namespaces, or of the pods of `namespace`; at most `limit`. */
export async function listNames(http: KubeHttp, resource: 'namespaces' | 'pods', namespace?: string, limit = 500): Promise<string[]> {
  const path = resource === 'namespaces' ? '/api/v1/namespaces' : `/api/v1/namespaces/${encodeURIComponent(namespace ?? 'default')}/pods`;
  const text = await declaredReadsOnly(http).getText(path, { limit }, TABLE_OR_LIST);
  return namesIn(JSON.parse(text));
}
