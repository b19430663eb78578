import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ROOT } from './support/fixtures.js';

/**
 * docs/krew/kdiag.yaml, the krew plugin manifest, in step with package.json: the name krew links
 * (kubectl-<name>) is an entry script of the package, its bin is that script, the version is the
 * package's, and the release placeholders are marked. test/packaging.test.ts installs the archive
 * the way this manifest says.
 */

interface Platform {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] };
  uri: string;
  sha256: string;
  files?: { from: string; to: string }[];
  bin: string;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { version: string; homepage: string; shortDescription: string; description: string; caveats?: string; platforms: Platform[] };
}

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; files: string[]; engines: { node: string } };
const MANIFEST = yaml.load(readFileSync(path.join(ROOT, 'docs', 'krew', 'kdiag.yaml'), 'utf8')) as Manifest;

describe('docs/krew/kdiag.yaml', () => {
  it('is a krew v1alpha2 Plugin named after the kubectl-kdiag entry script', () => {
    expect(MANIFEST.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2');
    expect(MANIFEST.kind).toBe('Plugin');
    expect(MANIFEST.metadata.name).toBe('kdiag');
    // krew links kubectl-<name> to bin: the same name npm installs.
    expect(Object.keys(PACKAGE.bin)).toContain(`kubectl-${MANIFEST.metadata.name}`);
  });

  it("has the package's version (with krew's v prefix) and the documentation fields", () => {
    expect(MANIFEST.spec.version).toBe(`v${PACKAGE.version}`);
    expect(MANIFEST.spec.homepage).toMatch(/^https:\/\//);
    expect(MANIFEST.spec.shortDescription.length).toBeGreaterThan(0);
    expect(MANIFEST.spec.shortDescription.length).toBeLessThanOrEqual(60);
    expect(MANIFEST.spec.description.trim().length).toBeGreaterThan(100);
    // The runtime it needs, as package.json's engines says.
    expect(MANIFEST.spec.caveats).toContain(PACKAGE.engines.node.replace(/^>=/, ''));
  });

  it("runs package.json's kubectl-kdiag script on every platform, from the archive's package/ directory", () => {
    expect(MANIFEST.spec.platforms.length).toBeGreaterThan(0);
    for (const platform of MANIFEST.spec.platforms) {
      expect(platform.bin).toBe(PACKAGE.bin[`kubectl-${MANIFEST.metadata.name}`]);
      expect(platform.files).toEqual([{ from: 'package/*', to: '.' }]);
      // The script is in the package (files whitelist).
      expect(PACKAGE.files.some((entry) => platform.bin.startsWith(entry))).toBe(true);
    }
  });

  it('is for Linux and macOS only: krew runs only .exe entry points on Windows', () => {
    for (const platform of MANIFEST.spec.platforms) {
      const os = platform.selector?.matchExpressions?.find((e) => e.key === 'os');
      const values = os ? os.values : [platform.selector?.matchLabels?.os];
      expect(os?.operator ?? 'In').toBe('In');
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) expect(['darwin', 'linux']).toContain(value);
    }
  });

  it('marks the release tarball URL and its sha256 as placeholders (or holds real ones)', () => {
    for (const platform of MANIFEST.spec.platforms) {
      expect(platform.uri).toMatch(/^https:\/\/\S+\/kdiag-v\d+\.\d+\.\d+\S*-krew\.tar\.gz$/);
      expect(platform.uri).toContain(`kdiag-v${PACKAGE.version}-krew.tar.gz`);
      expect(platform.uri.includes('PLACEHOLDER') || !platform.sha256.includes('PLACEHOLDER')).toBe(true);
      expect(platform.sha256).toMatch(/^(PLACEHOLDER-[A-Z0-9-]+|[0-9a-f]{64})$/);
    }
  });
});
