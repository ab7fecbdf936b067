/**
 * `report.html`: one self-contained page (inline CSS and SVG, no scripts needed, no external requests)
 * rendered from result.json alone. Everything from data or config goes through Handlebars' escaping;
 * the only unescaped parts are the stylesheet and SVG built here from numbers. Hidden characters
 * (bidi overrides, zero-width, controls) are shown as `⟨U+202E⟩` by one pass over the finished page.
 */
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { SERVED_REPEAT_TOLERANCE, type AuditResult, type RunInfo } from '../src/result/types.ts';
import { fmt, fmtEstimate, fmtP, jsonVisible, pct, visible } from './format.ts';
import { resultDigest } from './json.ts';

const template = (name: string) => readFileSync(new URL(`../templates/${name}`, import.meta.url), 'utf8');

const hb = Handlebars.create();
hb.registerHelper('fmt', (x: number, d: unknown) => fmt(x, typeof d === 'number' ? d : 3));
hb.registerHelper('est', (e) => fmtEstimate(e));
hb.registerHelper('pct', (e) => pct(e));
hb.registerHelper('p', (x: number) => fmtP(x));
hb.registerHelper('eq', (a, b) => a === b);
hb.registerHelper('json', (x) => JSON.stringify(x, null, 2));

let compiled: Handlebars.TemplateDelegate | undefined;

/**
 * EDPB Opinion 28/2024 para. 55 lists the attacks an anonymity claim must withstand; each row says
 * which of ours covers it, and whether it ran here.
 */
const COVERAGE: { cls: string; attacks: string[]; note: string }[] = [
  {
    cls: 'Membership inference',
    attacks: ['loss', 'zlib', 'min-k', 'min-k-plus-plus', 'reference', 'shadow', 'lira', 'rmia'],
    note: 'Was a person’s record in the training data?',
  },
  { cls: 'Exfiltration (targeted personal data)', attacks: ['pii-extraction'], note: 'Does the model emit a person’s declared PII when prompted with the text before it?' },
  { cls: 'Regurgitation', attacks: ['prefix-extraction', 'canary-exposure'], note: 'Does the model reproduce training text verbatim, or prefer planted secrets?' },
  { cls: 'Reconstruction', attacks: ['prefix-extraction'], note: 'Can the rest of a record be rebuilt from its beginning (exact and ≥ 0.9 edit similarity)?' },
  { cls: 'Attribute inference', attacks: [], note: 'Inferring a hidden attribute of a known person: no attack in this version.' },
  { cls: 'Model inversion', attacks: [], note: 'Reconstructing class-representative inputs: not implemented (meant for classifiers).' },
];

function coverage(result: AuditResult) {
  return COVERAGE.map((row) => {
    const here = result.attacks.filter((a) => row.attacks.includes(a.id));
    const ran = here.filter((a) => a.status === 'ok').map((a) => a.id);
    const status = row.attacks.length === 0 ? 'not available' : ran.length > 0 ? 'run' : here.length > 0 ? 'not applicable / failed' : 'not run';
    const detail =
      ran.length > 0
        ? ran.join(', ')
        : here.length > 0
          ? here.map((a) => `${a.id}: ${a.status}${a.reason ? ` (${a.reason})` : ''}`).join('; ')
          : row.attacks.length > 0
            ? `not configured (${row.attacks.join(', ')})`
            : '—';
    return { ...row, status, detail };
  });
}

const SCORING: Record<string, string> = {
  echo: 'yes (completions, echo + logprobs)',
  'prompt-logprobs': 'yes (vLLM prompt_logprobs)',
  sglang: "yes (SGLang's native /generate)",
  tgi: "yes (TGI's native /generate, prefill log-probabilities)",
};
const GENERATION: Record<string, string> = {
  completions: 'greedy completions',
  tgi: "greedy, TGI's native /generate",
  chat: 'chat only: the prefix is sent as a user message, so extraction is a lower bound',
};
const TOKENIZER: Record<string, string> = {
  'tokenize-endpoint': "checked against the server's /tokenize",
  'echoed-tokens': "checked against the server's echo",
  'prompt-token-count': "checked against the server's prompt token count",
  'not-checked': 'not checked (no /tokenize, no echo)',
};

/** The served endpoints of the run: what the probe found, and what this run sent (when known). */
function servedRows(result: AuditResult, run?: RunInfo) {
  return result.models.flatMap((m) => {
    const s = m.served;
    if (!s) return [];
    const sent = run?.served?.[m.role];
    return [
      {
        role: m.role,
        model: s.model,
        root: s.served.root,
        fingerprint: s.fingerprint,
        scoring: s.scoring ? SCORING[s.scoring] : 'no: membership attacks that need them are not applicable',
        generation: s.generation ? GENERATION[s.generation] : 'no',
        tokenizer: `${TOKENIZER[s.tokenizerCheck]}${s.tokenizerFrom ? ` (tokenizer of ${s.tokenizerFrom})` : ''}`,
        context: s.context,
        runNote: sent
          ? `${sent.requests} requests (${sent.attempts - sent.requests} retries), ${sent.promptTokens + sent.completionTokens} tokens${sent.repeated.requests > 0 ? `; ${sent.repeated.requests} sent twice, largest difference ${sent.repeated.maxAbsDiff.toExponential(1)}` : ''}`
          : 'served from the cache or not recorded',
      },
    ];
  });
}

/** LoRA roles: the adapter and what the provenance check found (src/claims/lora/provenance.ts). */
function loraRows(result: AuditResult) {
  return result.models.flatMap((m) => {
    const l = m.lora;
    if (!l) return [];
    const worst = Math.max(...l.modules.map((x) => x.maxAbsError));
    return [
      {
        role: m.role,
        base: l.base,
        adapter: l.adapter,
        rank: l.rank,
        alpha: l.alpha,
        scale: `${l.rslora ? 'alpha/√r' : 'alpha/r'} = ${(l.rslora ? l.alpha / Math.sqrt(l.rank) : l.alpha / l.rank).toPrecision(3)}`,
        targets: Array.isArray(l.targetModules) ? l.targetModules.join(', ') : l.targetModules,
        size: `${l.adapterParameters.toLocaleString('en')} parameters, ${(l.adapterBytes / 1024).toFixed(0)} KiB`,
        check: `merged = base + adapter on ${l.modules.length} weights (largest deviation ${worst.toExponential(1)}); ${l.otherWeights.count} other weights unchanged`,
      },
    ];
  });
}

/** What a reader must know of the served endpoints' answers in this run (drift between repeats, clamped values). */
export function servedWarnings(result: AuditResult, run?: RunInfo): string[] {
  const out: string[] = [];
  for (const m of result.models) {
    const sent = m.served ? run?.served?.[m.role] : undefined;
    if (!sent) continue;
    if (sent.repeated.maxAbsDiff > SERVED_REPEAT_TOLERANCE)
      out.push(
        `${m.role}: the same scoring request answered twice differed by up to ${sent.repeated.maxAbsDiff.toFixed(4)} nats (${sent.repeated.requests} requests repeated); the server is not deterministic (prefix caching or batch-variant kernels: start vLLM with --no-enable-prefix-caching), and scores near a threshold may move between runs.`,
      );
    if (sent.clamped > 0) out.push(`${m.role}: ${sent.clamped} token log-probabilities came back clamped to −9999 (−∞ on the server) and were kept at −9999; a record's mean can be dominated by one such token.`);
    if (sent.cachedTokens > 0) out.push(`${m.role}: the server reported ${sent.cachedTokens} prompt tokens served from its prefix cache; its scores may be cache-affected.`);
  }
  return out;
}

/** What the run's attacks assume of an adversary: the config's `report.threatModel`, or derived. */
function threatModel(result: AuditResult): string[] {
  const given = (result.config as { report?: { threatModel?: string | string[] } } | null)?.report?.threatModel;
  if (given) return Array.isArray(given) ? given : [given];
  const ids = new Set(result.attacks.filter((a) => a.status === 'ok').map((a) => a.id));
  const lines: string[] = [];
  const classifier = (result.models[0]?.ref ?? '').startsWith('onnx:') || (result.models[0]?.ref ?? '').startsWith('tfjs:');
  const shadows = ['shadow', 'lira', 'rmia'].filter((id) => ids.has(id));
  if (!classifier && [...ids].some((id) => ['loss', 'zlib', 'min-k', 'min-k-plus-plus', 'reference'].includes(id)))
    lines.push('Access: black-box queries returning per-token log-probabilities of a candidate text (membership attacks)' + (ids.has('reference') ? ', and the base model the fine-tune started from' : '') + '.');
  if (classifier && (ids.has('loss') || shadows.length > 0))
    lines.push('Access: black-box queries returning the class probabilities of a record; knowledge of its true class (membership attacks).');
  if (shadows.length > 0)
    lines.push(
      `Knowledge: the training recipe (architecture, epochs, batch size, learning rate) and records from the same distribution, enough to train shadow models like the target (${shadows.join(', ')})` +
        (ids.has('rmia') ? '; population records also serve as RMIA’s reference points' : '') +
        '.',
    );
  if (result.models.some((m) => m.served))
    lines.push('Access: the model as it is served (an OpenAI-compatible HTTP endpoint), with what that endpoint returns: prompt log-probabilities only where it gives them, at most its top-k alternatives per token.');
  if (ids.has('prefix-extraction') || ids.has('pii-extraction'))
    lines.push('Access: greedy text generation from a prompt (extraction attacks); one continuation per prompt, no sampling.');
  if (ids.has('prefix-extraction')) lines.push('Knowledge: the first tokens of a training record (a prefix).');
  if (ids.has('pii-extraction')) lines.push('Knowledge: the text that preceded a person’s PII in training (their own ticket up to the value).');
  if (ids.has('canary-exposure')) lines.push('Auditor’s knowledge: the secrets planted in training (canaries), ranked against random candidates.');
  lines.push(
    shadows.length > 0
      ? 'Not assumed: access to weights or gradients, or more shadow models than configured; a stronger adversary may find more.'
      : 'Not assumed: access to weights or gradients, shadow models trained on the same distribution, or many sampled generations; a stronger adversary may find more.',
  );
  return lines;
}

/** Most people listed in the synthetic-data per-subject table (the count is always given). */
const MAX_SYNTHETIC_SUBJECTS = 500;

/** The synthetic-data section's rows (src/audit/synthetic.ts): values are counts and pseudonyms only. */
function syntheticView(result: AuditResult) {
  const s = result.synthetic;
  if (!s) return {};
  const rows = s.subjects.slice(0, MAX_SYNTHETIC_SUBJECTS).map((x) => ({ subject: x.subject, records: x.records, hits: Object.entries(x.hitBy).map(([a, n]) => `${a}${n > 1 ? ` ×${n}` : ''}`).join(', ') }));
  return { synthetic: s, syntheticSubjects: rows, subjectsShown: s.subjects.length > MAX_SYNTHETIC_SUBJECTS ? MAX_SYNTHETIC_SUBJECTS : undefined };
}

/**
 * A SISA ensemble's training manifests (src/claims/sisa): the structural checks beside what the
 * attacks found on the same model, the two kinds of evidence side by side (research note A.4).
 */
function sisaView(result: AuditResult) {
  const s = result.claims?.sisa;
  if (!s) return {};
  const structural = s.checks.filter((c) => c.level === 'error');
  const failed = structural.filter((c) => c.status === 'fail').map((c) => c.id);
  const behaviour = result.gates.filter((g) => g.id.startsWith(`${result.gateModel}.forget.`) && g.level === 'error');
  const worstBehaviour = behaviour.some((g) => g.status === 'fail') ? 'fail' : behaviour.length === 0 || behaviour.some((g) => g.status === 'inconclusive') ? 'inconclusive' : 'pass';
  return {
    sisa: {
      ...s,
      status: failed.length > 0 ? 'fail' : structural.some((c) => c.status === 'inconclusive') ? 'inconclusive' : 'pass',
      failed: failed.map((id) => `claims.sisa.${id}`).join(', '),
      manifests: s.manifests.map((m) => ({ ...m, layout: `${m.shards} shards × ${[...new Set(m.slices)].join('/')} slices`, constituents: m.constituents.map((c) => ({ ...c, same: c.audited === c.finalCheckpoint })) })),
      // The message already quotes the first three problems; the full list only when there are more.
      checks: s.checks.map((c) => ({ ...c, gate: `claims.sisa.${c.id}`, listed: c.problemCount > 3, more: c.problemCount > c.problems.length ? c.problemCount - c.problems.length : 0 })),
      behaviour: behaviour.map((g) => ({ id: g.id, status: g.status, message: g.message })),
      behaviourStatus: worstBehaviour,
    },
  };
}

/** Which legal claim this run's result supports, in the words of the sources. */
function claims(result: AuditResult) {
  if (result.synthetic) {
    const preset = ((result.config as { assert?: { preset?: string } } | null)?.assert?.preset) ?? 'privacy-audit:synthetic';
    return [
      {
        claim: 'Anonymous synthetic data: singling out, linkability and inference of the people trained on are insignificant (WP216 §2.2.2; EDPB Opinion 28/2024 para. 43)',
        status: preset === 'privacy-audit:synthetic' ? (result.verdict === 'pass' ? 'supported by the attacks run' : 'not supported') : 'not evaluated (custom gates)',
      },
    ];
  }
  const preset = ((result.config as { assert?: { preset?: string } } | null)?.assert?.preset) ?? 'privacy-audit:unlearning';
  const pass = result.verdict === 'pass';
  const sisa = result.claims?.sisa;
  const sisaFailed = sisa?.checks.filter((c) => c.level === 'error' && c.status !== 'pass').map((c) => `claims.sisa.${c.id}`) ?? [];
  return [
    ...(sisa
      ? [
          {
            claim: 'SISA deletion: the training log shows the deleted records removed and only their shard retrained, from the last checkpoint that never saw them (Bourtoule et al. 2021); the audited models are the log’s',
            status: sisaFailed.length === 0 ? 'consistent: every structural gate passes (the log, not the hardware, is what was checked)' : `not supported: ${sisaFailed.join(', ')}`,
          },
        ]
      : []),
    {
      claim: 'Deletion verified for the listed subjects (GDPR Art. 17, CCPA §1798.105)',
      status: preset === 'privacy-audit:unlearning' || preset === 'privacy-audit:anonymisation' ? (pass ? 'supported by the attacks run' : 'not supported') : 'not evaluated (custom gates)',
    },
    {
      claim: 'Anonymous model: extraction and query-based inference “insignificant for any data subject” (EDPB Opinion 28/2024, para. 43); deidentified (CCPA §1798.140(m))',
      status: preset === 'privacy-audit:anonymisation' ? (pass ? 'supported by the attacks run' : 'not supported') : 'not evaluated: run with assert.preset privacy-audit:anonymisation, which gates every member, not only the deleted ones',
    },
  ];
}

/** A forest plot of AUC intervals: 0.5 (chance) marked, one row per finding. Numbers only. */
export function aucForest(findings: AuditResult['findings']): string {
  const rowH = 22;
  const left = 380;
  const width = 780;
  const plotW = width - left - 20;
  const x = (v: number) => left + v * plotW;
  const h = findings.length * rowH + 30;
  const rows = findings.map((f, i) => {
    const y = 10 + i * rowH + rowH / 2;
    const label = `${f.attack} · ${f.model} · ${f.positive} vs ${f.negative}`.replace(/[<>&"]/g, '');
    const colour = f.positive.startsWith('forget') ? '#b3261e' : '#3c6e9f';
    // no interval (too few people): the point alone, hollow
    const line = f.auc.lo === null || f.auc.hi === null ? '' : `<line x1="${x(f.auc.lo).toFixed(1)}" x2="${x(f.auc.hi).toFixed(1)}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2"/>`;
    return (
      `<text x="${left - 8}" y="${y + 4}" text-anchor="end" font-size="11">${label}</text>` +
      line +
      `<circle cx="${x(f.auc.value).toFixed(1)}" cy="${y}" r="3.5" fill="${colour}"/>`
    );
  });
  const axisY = 10 + findings.length * rowH;
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="${axisY}" y2="${axisY + 4}" stroke="#555"/><text x="${x(t)}" y="${axisY + 16}" text-anchor="middle" font-size="10">${t}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="AUC with 95% intervals per attack and model">` +
    `<line x1="${x(0.5)}" x2="${x(0.5)}" y1="5" y2="${axisY}" stroke="#888" stroke-dasharray="4 3"/>` +
    `<line x1="${left}" x2="${left + plotW}" y1="${axisY}" y2="${axisY}" stroke="#555"/>${ticks}${rows.join('')}</svg>`
  );
}

export async function renderHtml(result: AuditResult, run?: RunInfo): Promise<string> {
  // vega and vega-lite take ~0.5 s to import: only when a report is rendered, not at every start.
  const { extractionPlot, histogramPlots, rocPlots } = await import('./plots.ts');
  compiled ??= hb.compile(template('report.hbs'), { strict: false });
  // A gate's family is its attack's: the attack id is one of the dot-separated parts of the gate id.
  const familyOf = (id: string) => result.attacks.find((a) => id.split('.').includes(a.id))?.family;
  const membershipGates = result.gates.filter((g) => g.level === 'error' && familyOf(g.id) === 'membership');
  const extractionGates = result.gates.filter((g) => g.level === 'error' && familyOf(g.id) === 'extraction');
  const worst = (gs: typeof result.gates) =>
    gs.length === 0 ? 'not run' : gs.some((g) => g.status === 'fail') ? 'fail' : gs.some((g) => g.status === 'inconclusive') ? 'inconclusive' : 'pass';
  const models = result.models.map((m) => ({
    ...m,
    files: result.inputs.filter((i) => i.role === `model:${m.role}`),
  }));
  // Embedded for machines; `<` is escaped so no record-derived string can close the script element,
  // and hidden characters are JSON escapes (the same value, nothing for the last pass below to name).
  const embedded = jsonVisible(JSON.stringify(result).replace(/</g, '\\u003c'));
  const embeddedRun = run ? jsonVisible(JSON.stringify(run).replace(/</g, '\\u003c')) : undefined;
  const page = compiled({
    result,
    run,
    css: template('report.css'),
    digest: resultDigest(result),
    cacheNote: result.cacheRejected
      ? `${result.cacheRejected} cache ${result.cacheRejected === 1 ? 'entry' : 'entries'} failed verification and ${result.cacheRejected === 1 ? 'was' : 'were'} recomputed (edited, truncated, swapped or corrupt); no number in this report came from ${result.cacheRejected === 1 ? 'it' : 'them'}`
      : undefined,
    families: [
      { name: 'Membership inference', status: worst(membershipGates) },
      { name: 'Extraction', status: worst(extractionGates) },
    ],
    models,
    dataFiles: result.inputs.filter((i) => i.role.startsWith('data:')),
    dataCounts: Object.entries(result.data).map(([role, c]) => ({ role, ...c })),
    forgetFindings: result.findings.filter((f) => f.positive === 'forget'),
    controlFindings: result.findings.filter((f) => f.positive === 'retain'),
    forest: result.findings.length > 0 ? aucForest(result.findings) : '',
    notRun: result.attacks.filter((a) => a.status !== 'ok'),
    attackWarnings: result.attacks.flatMap((a) => (a.warnings ?? []).map((text) => ({ attack: a.id, text }))),
    truncated: result.attacks.flatMap((a) => Object.entries(a.truncated ?? {}).map(([model, n]) => ({ attack: a.id, model, n }))),
    leakedSubjects: result.subjects.filter((s) => (s.leakedBy[result.gateModel] ?? []).length > 0).length,
    // schemaVersion 3 lists only the people who leaked or were flagged; the rest are counted (subjects.csv has everyone).
    subjectsTotal: result.subjects.length + (result.subjectsNotListed ?? 0),
    subjectsCsv: result.sidecars?.find((s) => s.file === 'subjects.csv'),
    scoresSidecar: result.sidecars?.find((s) => s.file === 'scores.jsonl.gz'),
    subjectRows: result.subjects.map((s) => ({
      subject: s.subject,
      records: s.records,
      cells: result.models.map((m) => ({
        role: m.role,
        attacks: (s.leakedBy[m.role] ?? []).join(', '),
        flagged: (s.flaggedBy?.[m.role] ?? []).join(', '),
        emitted: (s.emitted?.[m.role] ?? []).map((e) => `${e.type} ${e.value}`).join(', '),
      })),
    })),
    embedded,
    embeddedRun,
    rocs: await rocPlots(result),
    histograms: await histogramPlots(result),
    extractionChart: await extractionPlot(result),
    coverage: coverage(result),
    servedRows: servedRows(result, run),
    loraRows: loraRows(result),
    servedWarnings: servedWarnings(result, run),
    deletion: (result.config as { deletion?: Record<string, string> } | null)?.deletion,
    threat: threatModel(result),
    claims: claims(result),
    ...syntheticView(result),
    ...sisaView(result),
  });
  // Text hygiene where the page is finished rather than at each of its fields: ids, PII, config text,
  // file names, and the labels inside the SVG plots all pass here, so no field added later can carry
  // a bidi override or zero-width character into the report. Handlebars has escaped the markup.
  return visible(page);
}
