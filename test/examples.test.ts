/**
 * The recipes in examples/ and the GitHub Action (action.yml) parse, name only fields that GitHub
 * Actions workflows and action metadata, GitLab CI and Kubernetes (v1 PersistentVolumeClaim,
 * batch/v1 Job) define — checked against allow-lists taken from their reference docs — and call
 * privacy-audit only with commands and flags it has (its own --help).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cli } from './helpers/cli.ts';
import { REPO } from './helpers/paths.ts';

type Json = Record<string, unknown>;
const EX = path.join(REPO, 'examples');
const docs = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
  expect(d.errors, file).toEqual([]);
  return d.toJS() as Json;
});
/** Every key of `o` is in `allowed`; returns o for chaining. */
function only(o: unknown, allowed: string[], where: string): Json {
  expect(o !== null && typeof o === 'object' && !Array.isArray(o), `${where} is a mapping`).toBe(true);
  for (const k of Object.keys(o as Json)) expect(allowed, `${where}.${k}`).toContain(k);
  return o as Json;
}

// GitHub Actions workflow syntax (docs.github.com, "Workflow syntax for GitHub Actions").
const WORKFLOW = ['name', 'run-name', 'on', 'permissions', 'env', 'defaults', 'concurrency', 'jobs'];
const JOB = ['name', 'permissions', 'needs', 'if', 'runs-on', 'environment', 'concurrency', 'outputs', 'env', 'defaults', 'steps', 'timeout-minutes', 'strategy', 'continue-on-error', 'container', 'services', 'uses', 'with', 'secrets'];
const STEP = ['id', 'if', 'name', 'uses', 'run', 'working-directory', 'shell', 'with', 'env', 'continue-on-error', 'timeout-minutes'];
const STRATEGY = ['matrix', 'fail-fast', 'max-parallel'];
// Inputs of the official actions used (their action.yml).
const ACTION_INPUTS: Record<string, string[]> = {
  'actions/checkout@v4': ['repository', 'ref', 'token', 'path', 'fetch-depth', 'lfs', 'submodules'],
  'actions/setup-node@v4': ['node-version', 'node-version-file', 'cache', 'cache-dependency-path', 'registry-url'],
  'actions/upload-artifact@v4': ['name', 'path', 'if-no-files-found', 'retention-days', 'compression-level', 'overwrite', 'include-hidden-files'],
  'actions/download-artifact@v4': ['name', 'path', 'pattern', 'merge-multiple', 'github-token', 'repository', 'run-id'],
};

// Metadata syntax for GitHub Actions (docs.github.com, "Metadata syntax"): a composite action.
const ACTION = ['name', 'author', 'description', 'inputs', 'outputs', 'runs', 'branding'];
const ACTION_INPUT = ['description', 'required', 'default', 'deprecationMessage'];
const ACTION_OUTPUT = ['description', 'value'];
const COMPOSITE_RUNS = ['using', 'steps'];
const COMPOSITE_STEP = ['id', 'if', 'name', 'uses', 'run', 'working-directory', 'shell', 'with', 'env', 'continue-on-error'];
const BRANDING = ['icon', 'color'];

// GitLab CI/CD YAML syntax reference (docs.gitlab.com, "CI/CD YAML syntax reference").
const GITLAB_GLOBAL = ['default', 'include', 'stages', 'variables', 'workflow'];
const GITLAB_JOB = ['after_script', 'allow_failure', 'artifacts', 'before_script', 'cache', 'coverage', 'dependencies', 'environment', 'extends', 'hooks', 'id_tokens', 'identity', 'image', 'inherit', 'interruptible', 'needs', 'pages', 'parallel', 'release', 'resource_group', 'retry', 'rules', 'script', 'secrets', 'services', 'stage', 'tags', 'timeout', 'trigger', 'variables', 'when'];
const GITLAB_ARTIFACTS = ['paths', 'exclude', 'expire_in', 'expose_as', 'name', 'public', 'access', 'reports', 'untracked', 'when'];
const GITLAB_REPORTS = ['accessibility', 'annotations', 'api_fuzzing', 'browser_performance', 'coverage_report', 'codequality', 'container_scanning', 'coverage_fuzzing', 'cyclonedx', 'dast', 'dependency_scanning', 'dotenv', 'junit', 'load_performance', 'metrics', 'requirements', 'repository_xray', 'sast', 'secret_detection', 'terraform'];
const GITLAB_CACHE = ['key', 'paths', 'untracked', 'unprotect', 'when', 'policy', 'fallback_keys'];
const GITLAB_RULE = ['if', 'changes', 'exists', 'when', 'allow_failure', 'needs', 'variables', 'interruptible'];

// Kubernetes API reference (v1.31): the fields used by these recipes' objects.
const OBJECT = ['apiVersion', 'kind', 'metadata', 'spec'];
const METADATA = ['name', 'namespace', 'labels', 'annotations'];
const PVC_SPEC = ['accessModes', 'resources', 'storageClassName', 'volumeMode', 'volumeName', 'selector'];
const JOB_SPEC = ['activeDeadlineSeconds', 'backoffLimit', 'backoffLimitPerIndex', 'completionMode', 'completions', 'manualSelector', 'maxFailedIndexes', 'parallelism', 'podFailurePolicy', 'podReplacementPolicy', 'selector', 'successPolicy', 'suspend', 'template', 'ttlSecondsAfterFinished'];
const POD_SPEC = ['containers', 'initContainers', 'restartPolicy', 'volumes', 'securityContext', 'serviceAccountName', 'nodeSelector', 'tolerations', 'affinity', 'imagePullSecrets'];
const CONTAINER = ['name', 'image', 'command', 'args', 'env', 'envFrom', 'resources', 'volumeMounts', 'workingDir', 'securityContext', 'imagePullPolicy'];
const VOLUME = ['name', 'persistentVolumeClaim', 'configMap', 'secret', 'emptyDir'];

/** privacy-audit invocations in a recipe: the words after `privacy-audit` (a run line, or a container's args). */
function invocations(file: string): string[][] {
  const text = readFileSync(file, 'utf8');
  const out: string[][] = [];
  for (const m of text.matchAll(/(?:npx privacy-audit|node "\$BIN") ([^\n`)]+)/g)) out.push(m[1]!.trim().split(/\s+/));
  for (const m of text.matchAll(/^\s*args: \[([^\]]+)\]/gm)) out.push(m[1]!.split(',').map((s) => s.trim()));
  return out;
}

describe('examples/', () => {
  it('the GitHub Actions matrix: real workflow keys and action inputs', () => {
    const [wf] = docs(path.join(EX, 'github-actions/privacy-audit-sharded.yml'));
    only(wf, WORKFLOW, 'workflow');
    for (const [name, job] of Object.entries(only(wf!.jobs, ['shard', 'merge'], 'jobs'))) {
      const j = only(job, JOB, `jobs.${name}`);
      if (j.strategy) only(j.strategy, STRATEGY, `jobs.${name}.strategy`);
      for (const [i, step] of (j.steps as unknown[]).entries()) {
        const s = only(step, STEP, `jobs.${name}.steps[${i}]`);
        if (typeof s.uses === 'string') {
          expect(Object.keys(ACTION_INPUTS), `jobs.${name}.steps[${i}].uses`).toContain(s.uses);
          if (s.with) only(s.with, ACTION_INPUTS[s.uses]!, `jobs.${name}.steps[${i}].with`);
        }
      }
    }
    expect((wf!.jobs as Json).merge).toMatchObject({ needs: 'shard' });
  });

  it('the Kubernetes Indexed Job and merge Job: real v1 and batch/v1 fields', () => {
    const all = ['privacy-audit-sharded.yaml', 'privacy-audit-merge.yaml'].flatMap((f) => docs(path.join(EX, 'kubernetes', f)));
    expect(all.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['v1 PersistentVolumeClaim', 'batch/v1 Job', 'batch/v1 Job']);
    for (const d of all) {
      only(d, OBJECT, String(d.kind));
      only(d.metadata, METADATA, `${d.kind}.metadata`);
      if (d.kind === 'PersistentVolumeClaim') {
        only(d.spec, PVC_SPEC, 'PersistentVolumeClaim.spec');
        continue;
      }
      const spec = only(d.spec, JOB_SPEC, 'Job.spec');
      const pod = only(only(spec.template, ['metadata', 'spec'], 'Job.spec.template').spec, POD_SPEC, 'Job.spec.template.spec');
      for (const c of [...((pod.initContainers as unknown[]) ?? []), ...(pod.containers as unknown[])]) {
        const cc = only(c, CONTAINER, 'container');
        for (const m of (cc.volumeMounts as unknown[]) ?? []) only(m, ['name', 'mountPath', 'readOnly', 'subPath'], 'volumeMount');
      }
      for (const v of pod.volumes as unknown[]) only(v, VOLUME, 'volume');
    }
    const indexed = all[1]!.spec as Json;
    expect(indexed).toMatchObject({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
  });

  it('action.yml: composite action metadata with real keys, inputs it declares, action inputs that exist', () => {
    const file = path.join(REPO, 'action.yml');
    const [a] = docs(file);
    only(a, ACTION, 'action');
    only(a!.branding, BRANDING, 'branding');
    const inputs = only(a!.inputs, ['config', 'out', 'inconclusive', 'args', 'artifact-name', 'node-version'], 'inputs');
    for (const [k, v] of Object.entries(inputs)) expect(Object.keys(only(v, ACTION_INPUT, `inputs.${k}`)), `inputs.${k}`).toContain('description');
    for (const [k, v] of Object.entries(only(a!.outputs, ['verdict', 'exit-code'], 'outputs'))) only(v, ACTION_OUTPUT, `outputs.${k}`);
    const runs = only(a!.runs, COMPOSITE_RUNS, 'runs');
    expect(runs.using).toBe('composite');
    const steps = (runs.steps as unknown[]).map((st, i) => only(st, COMPOSITE_STEP, `runs.steps[${i}]`));
    for (const [i, st] of steps.entries()) {
      // A composite action's run step must name its shell.
      if (st.run !== undefined) expect(st.shell, `runs.steps[${i}].shell`).toBe('bash');
      if (typeof st.uses === 'string') {
        expect(Object.keys(ACTION_INPUTS), `runs.steps[${i}].uses`).toContain(st.uses);
        if (st.with) only(st.with, ACTION_INPUTS[st.uses]!, `runs.steps[${i}].with`);
      }
    }
    const text = readFileSync(file, 'utf8');
    // Every input and step output it reads is declared or written.
    for (const m of text.matchAll(/\$\{\{\s*inputs\.([\w-]+)/g)) expect(Object.keys(inputs), m[0]).toContain(m[1]);
    for (const m of text.matchAll(/steps\.(\w+)\.outputs\.([\w-]+)/g)) {
      expect(steps.map((st) => st.id), m[0]).toContain(m[1]);
      expect(text, m[0]).toMatch(new RegExp(`"${m[2]}=[^"]*"?[^\\n]*>> "\\$GITHUB_OUTPUT"`));
    }
    // It writes the summary, uploads the report and JUnit, and fails on the exit code.
    expect(text).toContain('>> "$GITHUB_STEP_SUMMARY"');
    const upload = steps.find((st) => st.uses === 'actions/upload-artifact@v4')!;
    expect(String((upload.with as Json).path)).toMatch(/report\.html[\s\S]*junit\.xml/);
    expect(upload.if).toBe('always()');
    expect(String(steps.at(-1)!.run)).toContain('exit "${CODE:-3}"');
  });

  it('the GitLab CI template: real keywords, a JUnit report and artifacts', () => {
    const [g] = docs(path.join(EX, 'gitlab/privacy-audit.gitlab-ci.yml'));
    const jobs = Object.entries(g!).filter(([k]) => !GITLAB_GLOBAL.includes(k));
    expect(jobs.map(([k]) => k)).toEqual(['.privacy-audit', 'privacy-audit']);
    for (const [name, job] of jobs) {
      const j = only(job, GITLAB_JOB, name);
      if (j.artifacts) {
        const art = only(j.artifacts, GITLAB_ARTIFACTS, `${name}.artifacts`);
        only(art.reports, GITLAB_REPORTS, `${name}.artifacts.reports`);
        expect(art.reports).toMatchObject({ junit: 'privacy-audit-report/junit.xml' });
        expect(art.paths).toEqual(expect.arrayContaining(['privacy-audit-report/report.html', 'privacy-audit-report/summary.md']));
        expect(art.when).toBe('always');
      }
      if (j.cache) only(j.cache, GITLAB_CACHE, `${name}.cache`);
      for (const [i, r] of ((j.rules as unknown[]) ?? []).entries()) only(r, GITLAB_RULE, `${name}.rules[${i}]`);
      if (j.extends) expect(Object.keys(g!), `${name}.extends`).toContain(j.extends);
    }
    expect((g!['.privacy-audit'] as Json).variables).toMatchObject({ PRIVACY_AUDIT_OUT: 'privacy-audit-report' });
  });

  it('every privacy-audit command and flag in the recipes exists', async () => {
    const help = (await cli(['--help'])).stderr + (await cli(['--help'])).stdout;
    const files = [
      path.join(REPO, 'action.yml'),
      path.join(EX, 'gitlab/privacy-audit.gitlab-ci.yml'),
      path.join(EX, 'github-actions/privacy-audit-sharded.yml'),
      ...readdirSync(path.join(EX, 'kubernetes')).map((f) => path.join(EX, 'kubernetes', f)),
    ];
    const calls = files.flatMap(invocations);
    expect(calls.length).toBeGreaterThanOrEqual(7);
    for (const words of calls) {
      expect(['run', 'cache', 'init'], words.join(' ')).toContain(words[0]);
      for (const flag of words.filter((w) => w.startsWith('--'))) expect(help, `${flag} in "${words.join(' ')}"`).toContain(flag);
    }
  });
});
