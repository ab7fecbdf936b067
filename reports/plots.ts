/**
 * The report's plots, as static SVG rendered in Node with vega-lite → vega (no canvas, no script in
 * the page): ROC curves on log-log axes (the low-FPR region is where membership inference matters),
 * score histograms, and extraction rates with their intervals. Labels come from result.json and are
 * stripped of markup characters before they reach the chart.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { AuditResult } from '../src/result/types.ts';

const clean = (s: string) => s.replace(/[<>&"'`]/g, '_');

const CONFIG = { font: 'system-ui, sans-serif', axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { labelFontSize: 10, titleFontSize: 11 } };

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const out = await view.toSVG();
  view.finalize();
  return out;
}

/** One chart per attack: every model and comparison as a line, FPR and TPR on log axes from 1e-3. */
export async function rocPlots(result: AuditResult): Promise<{ attack: string; svg: string }[]> {
  const out: { attack: string; svg: string }[] = [];
  for (const attack of [...new Set(result.findings.map((f) => f.attack))]) {
    const values: { fpr: number; tpr: number; curve: string }[] = [];
    // Record-level comparisons only: the people-level curves have too few points to plot on log axes.
    for (const f of result.findings.filter((x) => x.attack === attack && x.roc && !x.positive.endsWith('-subjects'))) {
      const curve = clean(`${f.model}: ${f.positive} vs ${f.negative}`);
      const floor = 1e-3;
      f.roc!.fpr.forEach((x, i) => values.push({ fpr: Math.max(x, floor), tpr: Math.max(f.roc!.tpr[i]!, floor), curve }));
    }
    if (values.length === 0) continue;
    const chance = [1e-3, 1].map((x) => ({ fpr: x, tpr: x, curve: 'chance' }));
    out.push({
      attack,
      svg: await svg({
        width: 320,
        height: 280,
        config: CONFIG,
        title: clean(`${attack}: ROC (log-log)`),
        layer: [
          { data: { values: chance }, mark: { type: 'line', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' } } },
          {
            data: { values },
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: {
              x: { field: 'fpr', type: 'quantitative', scale: { type: 'log', domain: [1e-3, 1] }, title: 'false positive rate' },
              y: { field: 'tpr', type: 'quantitative', scale: { type: 'log', domain: [1e-3, 1] }, title: 'true positive rate' },
              color: { field: 'curve', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 320 } },
            },
          },
        ],
      }),
    });
  }
  return out;
}

/**
 * Score distributions of forget, retain and holdout records for every attack and model, as densities
 * (share of records per unit of score), since the forget and retain comparisons have their own bins.
 */
export async function histogramPlots(result: AuditResult): Promise<{ title: string; svg: string }[]> {
  const out: { title: string; svg: string }[] = [];
  for (const f of result.findings.filter((x) => x.histogram && (x.positive === 'forget' || x.positive === 'member'))) {
    const retain = result.findings.find((x) => x.attack === f.attack && x.model === f.model && x.positive === 'retain' && x.histogram);
    const series = (h: NonNullable<typeof f.histogram>, counts: number[], n: number, split: string) =>
      h.edges.slice(0, -1).map((lo, i) => ({ lo, hi: h.edges[i + 1]!, density: counts[i]! / n / (h.edges[i + 1]! - lo), split: clean(split) }));
    const values = [
      ...series(f.histogram!, f.histogram!.positive, f.n.positive, f.positive),
      ...series(f.histogram!, f.histogram!.negative, f.n.negative, f.negative),
      ...(retain ? series(retain.histogram!, retain.histogram!.positive, retain.n.positive, 'retain') : []),
    ];
    const title = clean(`${f.attack} · ${f.model}`);
    out.push({
      title,
      svg: await svg({
        width: 260,
        height: 140,
        config: CONFIG,
        title,
        data: { values },
        mark: { type: 'rect', opacity: 0.45 },
        encoding: {
          x: { field: 'lo', type: 'quantitative', title: 'score (higher = more member-like)' },
          x2: { field: 'hi' },
          y: { field: 'density', type: 'quantitative', title: 'density', stack: null },
          color: {
            field: 'split',
            type: 'nominal',
            title: null,
            scale: { domain: [clean(f.positive), clean(f.negative), 'retain'], range: ['#b3261e', '#3c6e9f', '#7a7a7a'] },
            legend: { orient: 'bottom' },
          },
        },
      }),
    });
  }
  return out;
}

/** Extraction hit rates with 95% Clopper–Pearson intervals, per attack, model and split. */
export async function extractionPlot(result: AuditResult): Promise<string | undefined> {
  if (result.extraction.length === 0) return undefined;
  const values = result.extraction.map((e) => ({
    row: clean(`${e.attack} · ${e.model}`),
    split: e.split,
    rate: e.rate.value,
    lo: e.rate.lo,
    hi: e.rate.hi,
  }));
  return svg({
    width: 360,
    config: CONFIG,
    title: 'extraction hit rate (95% interval)',
    data: { values },
    facet: { row: { field: 'row', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 360,
      height: { step: 12 },
      layer: [
        { mark: { type: 'rule' }, encoding: { x: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] }, title: 'rate' }, x2: { field: 'hi' }, y: { field: 'split', type: 'nominal', title: null }, color: { field: 'split', type: 'nominal', legend: null } } },
        { mark: { type: 'point', filled: true }, encoding: { x: { field: 'rate', type: 'quantitative' }, y: { field: 'split', type: 'nominal' }, color: { field: 'split', type: 'nominal', legend: null } } },
      ],
    },
  } as TopLevelSpec);
}
