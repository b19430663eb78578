import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yaml from 'js-yaml';
import { ROOT, fixturePath } from './support/fixtures.js';
import type { RunResult } from './support/run.js';
import { onPath, runProgram } from './support/run.js';

/*
 * SLOW: about 15 to 60 seconds (npm pack, then two npm installs); every step is bounded.
 *
 * The package as users get it. `npm pack` runs in a copy of the sources without dist/, so the
 * prepack script must build; the tarball is then installed globally into a temporary prefix and as
 * a dependency of a temporary project, and what was installed is run: `kdiag`, `kubectl-kdiag`
 * (and `kubectl kdiag` when kubectl is installed), `npm exec -- kdiag`; and the krew archive of
 * docs/krew/kdiag.yaml is made and installed as krew would. Dependencies come from the
 * npm cache when it has them (--prefer-offline), else from the registry.
 * KDIAG_SKIP_PACKAGING=1 skips this file (offline work on something else).
 */

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string> };
const STEP_MS = 180_000;
const skip = process.env.KDIAG_SKIP_PACKAGING === '1';

let temp: string;
let tarball: string;
let files: string[];
let prefixBin: string;

/** The environment npm and the installed commands get: this one without jest's and npm's run settings. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const vars: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
  delete vars.NODE_OPTIONS;
  delete vars.INIT_CWD;
  for (const key of Object.keys(vars)) {
    // `npm test` passes its own package and prefixes down: not this install's business.
    if (/^npm_(?!config_)/i.test(key) || /^npm_config_(prefix|global_prefix|local_prefix|global)$/i.test(key)) delete vars[key];
  }
  return vars;
}

function npm(args: string[], cwd: string): Promise<RunResult> {
  return runIn(cwd, 'npm', args);
}

/** Run a program in a directory, bounded by STEP_MS. */
function runIn(cwd: string, file: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runProgram(file, args, env(extra), STEP_MS, cwd);
}

function ok(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stderr.slice(-4000)}`);
  return result;
}

(skip ? describe.skip : describe)('packaging (slow: npm pack and npm install, bounded)', () => {
  beforeAll(async () => {
    temp = mkdtempSync(path.join(tmpdir(), 'kdiag-pack-'));
    // What a fresh checkout has, without dist/: prepack has to build it.
    const source = path.join(temp, 'source');
    mkdirSync(source);
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src', 'rules']) {
      cpSync(path.join(ROOT, entry), path.join(source, entry), { recursive: true });
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'), 'dir');
    const out = path.join(temp, 'out');
    mkdirSync(out);
    const pack = ok(await npm(['pack', '--json', '--pack-destination', out], source), 'npm pack');
    // npm prints the prepack script's output before the JSON.
    const listed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    files = listed[0]!.files.map((f) => f.path).sort();
    tarball = path.join(out, listed[0]!.filename);
  }, STEP_MS);

  afterAll(() => {
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('packs the built CLI, its rules, the entry scripts and the README; no tests, fixtures or sources', () => {
    expect(existsSync(tarball)).toBe(true);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/kdiag.js', 'bin/kubectl-kdiag.js', 'dist/src/cli/index.js', 'dist/src/cli/completion.js', 'dist/rules/index.js', 'dist/help/kdiag-100.txt', 'dist/help/kdiag-110.txt', 'dist/help/kubectl-kdiag-100.txt']));
    const allowed = /^(package\.json|README\.md|LICENSE|bin\/[\w-]+\.js|dist\/(src|rules)\/.+\.js|dist\/help\/(kubectl-)?kdiag-\d+\.txt)$/;
    expect(files.filter((file) => !allowed.test(file))).toEqual([]);
    expect(files.filter((file) => /^(test|fixtures|src|rules|bench|docs)\/|\.ts$|\.map$/.test(file))).toEqual([]);
    // Every rule source has its built module in the package.
    const rules = readdirSync(path.join(ROOT, 'rules')).filter((file) => file.endsWith('.ts'));
    expect(rules.filter((file) => !files.includes(`dist/rules/${file.replace(/\.ts$/, '.js')}`))).toEqual([]);
  });

  it('has two entry scripts that node runs directly', () => {
    expect(Object.keys(PACKAGE.bin).sort()).toEqual(['kdiag', 'kubectl-kdiag']);
    for (const script of Object.values(PACKAGE.bin)) expect(readFileSync(path.join(ROOT, script), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  describe('npm install -g --prefix', () => {
    beforeAll(async () => {
      const prefix = path.join(temp, 'prefix');
      ok(await npm(['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], temp), 'npm install -g');
      prefixBin = path.join(prefix, 'bin');
    }, STEP_MS);

    const installed = (name: string, args: string[], extra: NodeJS.ProcessEnv = {}) => runIn(temp, path.join(prefixBin, name), args, extra);

    it('installs kdiag and kubectl-kdiag, with the runtime dependencies and no development ones', () => {
      expect(existsSync(path.join(prefixBin, 'kdiag'))).toBe(true);
      expect(existsSync(path.join(prefixBin, 'kubectl-kdiag'))).toBe(true);
      const modules = path.join(prefixBin, '..', 'lib', 'node_modules', PACKAGE.name, 'node_modules');
      expect(existsSync(path.join(modules, 'yargs'))).toBe(true);
      for (const dev of ['jest', 'typescript', 'ts-jest', 'nock']) expect(existsSync(path.join(modules, dev))).toBe(false);
    });

    it('kdiag --version, explain 137, and the demo snapshot (exit 1 on its critical diagnoses)', async () => {
      const version = await installed('kdiag', ['--version']);
      expect({ code: version.code, stdout: version.stdout.trim(), stderr: version.stderr }).toEqual({ code: 0, stdout: PACKAGE.version, stderr: '' });
      const explain = await installed('kdiag', ['explain', '137']);
      expect(explain.code).toBe(0);
      expect(explain.stdout).toMatch(/^Exit code 137: SIGKILL/);
      const demo = await installed('kdiag', ['namespace', '--snapshot', fixturePath('demo-namespace.json')]);
      expect({ code: demo.code, stderr: demo.stderr }).toEqual({ code: 1, stderr: '' });
      expect(demo.stdout.split('\n')[0]).toMatch(/^kdiag · namespace shop · \d+ pods/);
    });

    it('completes names (the lazily loaded completion module is in the package)', async () => {
      const result = await installed('kdiag', ['--get-yargs-completions', 'kdiag', 'pod', '--snapshot', fixturePath('demo-namespace.json'), 'cart']);
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.stdout.split('\n').filter(Boolean)).toEqual(['cart-6br8cpcwpc-v9tpm', 'cart-6br8cpcwpc-xd6r6', 'cart-6br8cpcwpc-z6l75']);
    });

    it('kubectl-kdiag is the same CLI, named `kubectl kdiag` in its help', async () => {
      const help = await installed('kubectl-kdiag', ['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: kubectl kdiag <command> [options]');
      expect(help.stdout).toContain('kubectl kdiag pod <name>');
      const podHelp = await installed('kubectl-kdiag', ['pod', '--help']);
      expect(podHelp.stdout).toContain('kubectl kdiag pod web -n prod');
      const version = await installed('kubectl-kdiag', ['--version']);
      expect(version.stdout.trim()).toBe(PACKAGE.version);
    });

    (onPath('kubectl') ? it : it.skip)('kubectl finds the plugin on the PATH: kubectl kdiag --version', async () => {
      const pathWithPlugin = `${prefixBin}${path.delimiter}${process.env.PATH ?? ''}`;
      const result = await runIn(temp, 'kubectl', ['kdiag', '--version'], { PATH: pathWithPlugin, KUBECONFIG: path.join(temp, 'no-kubeconfig') });
      expect({ code: result.code, stdout: result.stdout.trim() }).toEqual({ code: 0, stdout: PACKAGE.version });
      const demo = await runIn(temp, 'kubectl', ['kdiag', 'ns', '--snapshot', fixturePath('demo-namespace.json'), '-o', 'json'], { PATH: pathWithPlugin, KUBECONFIG: path.join(temp, 'no-kubeconfig') });
      expect(demo.code).toBe(1);
      expect(JSON.parse(demo.stdout)).toMatchObject({ apiVersion: 'kdiag/v1' });
    });
  });

  it(
    'the krew archive, made and installed as docs/krew/kdiag.yaml says, runs as kubectl-kdiag',
    async () => {
      const manifest = yaml.load(readFileSync(path.join(ROOT, 'docs', 'krew', 'kdiag.yaml'), 'utf8')) as {
        metadata: { name: string };
        spec: { platforms: { files: { from: string; to: string }[]; bin: string }[] };
      };
      // The archive: the npm package (package/) with its runtime dependencies.
      const archive = path.join(temp, 'krew-archive');
      mkdirSync(archive);
      ok(await runIn(archive, 'tar', ['xzf', tarball]), 'tar xzf');
      ok(await npm(['install', '--omit=dev', '--ignore-scripts', '--no-package-lock', '--prefer-offline'], path.join(archive, 'package')), 'npm install --omit=dev');
      // krew: each `files` glob match moves to `to`, by its base name; then kubectl-<name> links to bin.
      const platform = manifest.spec.platforms[0]!;
      const installDir = path.join(temp, 'krew-store', manifest.metadata.name);
      mkdirSync(installDir, { recursive: true });
      for (const { from, to } of platform.files) {
        expect(from).toMatch(/^[\w.-]+\/\*$/); // the one glob form this simulation knows
        const dir = path.join(archive, from.slice(0, -2));
        for (const entry of readdirSync(dir)) renameSync(path.join(dir, entry), path.join(installDir, to, entry));
      }
      const krewBin = path.join(temp, 'krew-bin');
      mkdirSync(krewBin);
      symlinkSync(path.join(installDir, platform.bin), path.join(krewBin, `kubectl-${manifest.metadata.name}`));
      const version = await runIn(temp, path.join(krewBin, 'kubectl-kdiag'), ['--version']);
      expect({ code: version.code, stdout: version.stdout.trim(), stderr: version.stderr }).toEqual({ code: 0, stdout: PACKAGE.version, stderr: '' });
      const demo = await runIn(temp, path.join(krewBin, 'kubectl-kdiag'), ['ns', '--snapshot', fixturePath('demo-namespace.json')]);
      expect({ code: demo.code, stderr: demo.stderr }).toEqual({ code: 1, stderr: '' });
      if (onPath('kubectl')) {
        const viaKubectl = await runIn(temp, 'kubectl', ['kdiag', '--version'], { PATH: `${krewBin}${path.delimiter}${process.env.PATH ?? ''}` });
        expect(viaKubectl.stdout.trim()).toBe(PACKAGE.version);
      }
    },
    2 * STEP_MS,
  );

  it(
    'npm exec -- kdiag in a project that depends on the tarball',
    async () => {
      const project = path.join(temp, 'project');
      mkdirSync(project);
      writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'kdiag-consumer', version: '1.0.0', private: true }));
      ok(await npm(['install', '--prefer-offline', tarball], project), 'npm install (dependency)');
      expect(existsSync(path.join(project, 'node_modules', '.bin', 'kubectl-kdiag'))).toBe(true);
      const result = await npm(['exec', '--offline', '--', 'kdiag', '--version'], project);
      expect({ code: result.code, stdout: result.stdout.trim() }).toEqual({ code: 0, stdout: PACKAGE.version });
    },
    2 * STEP_MS,
  );
});
