/**
 * Shadow-model membership scores from per-(model, record) confidences — the part of LiRA and RMIA
 * that needs no model, shared by `privacy-audit evaluate --observations` and `run` on classifiers
 * (attacks/lira, attacks/rmia). Conventions version 2 of ../shared/oracles/shadow-attacks.json (the
 * paper wins over the reference code, except for fixed variance, where we follow the reference code):
 *
 * LiRA (Carlini et al., IEEE S&P 2022, §4): φ = log(p / (1 − p)), p clipped to [1e-12, 1 − 1e-12];
 *   per record, μ and σ (ddof 0) of φ over the IN shadows and over the OUT shadows.
 *   online  = log N(φ_target; μ_in, σ_in) − log N(φ_target; μ_out, σ_out)
 *   offline = z = (φ_target − μ_out) / σ_out   (the statistic of the paper's one-sided test; its
 *             p-value Φ(z) would round every strong member to exactly 1.0 and tie them, which
 *             blinds TPR at low FPR; z ranks the same without the ties. z is unbounded: never
 *             read it as a probability)
 *   fixed variance: ONE global σ, the same for IN and OUT, as the paper's reference implementation:
 *   online, the std of all IN φ pooled over records; offline, the std of all OUT φ pooled. `run`
 *   uses it by default below 64 shadows (lira's fixedVariance "auto", paper §IV-C). (Two
 *   separate pooled σ_in ≠ σ_out add a log(σ_out/σ_in) term and a curvature that, when the shadows
 *   are slightly mismatched to the target, cost LiRA much of its power — AUC 0.99 → 0.90, issue #10.)
 *   σ is floored at MIN_SIGMA = 1e-6 so identical shadow values give a finite score.
 * RMIA (Zarifzadeh, Liu, Shokri, ICML 2024, §3): Pr(x) = mean confidence of x over the reference
 *   models (online), or ½((1 + a)·mean_OUT(x) + (1 − a)) (offline, OUT references only); the same
 *   for each population point z, from the references the caller passes for it (in `run`: all of
 *   them online, the ones that did not train on z offline); LR(x, z) = (p(x)/Pr(x)) / (p(z)/Pr(z));
 *   score(x) = fraction of z with LR(x, z) ≥ γ.
 * Higher = more likely member, always.
 */
import normalLogpdf from '@stdlib/stats-base-dists-normal-logpdf';
import { ks2samp, type KsResult } from '../metrics/index.ts';

export interface RecordShadows {
  id: string;
  /** The target model's confidence in the record's true label. */
  target: number;
  /** Confidences of the shadow/reference models that trained on the record (IN) and that did not (OUT). */
  inside: number[];
  outside: number[];
}

export const logit = (p: number): number => {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q / (1 - q));
};

const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const stdOf = (xs: number[]) => {
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
};

/**
 * Floor on σ (in φ units): when every IN (or OUT) shadow gives the same φ — e.g. all saturate at
 * p = 1 in float32 — σ would be 0 and the score ±∞ or NaN. Far below any real spread, so it
 * changes no score that was finite.
 */
export const MIN_SIGMA = 1e-6;

export interface LiraOptions {
  offline?: boolean;
  fixedVariance?: boolean;
}

export function liraScores(records: RecordShadows[], opts: LiraOptions = {}): number[] {
  const phiIn = records.map((r) => r.inside.map(logit));
  const phiOut = records.map((r) => r.outside.map(logit));
  // Fixed variance: one σ for both Gaussians, from the IN values online and the OUT values offline.
  const globalSigma = opts.fixedVariance ? Math.max(stdOf((opts.offline ? phiOut : phiIn).flat()), MIN_SIGMA) : NaN;
  return records.map((r, i) => {
    const phi = logit(r.target);
    const outs = phiOut[i]!;
    if (outs.length === 0) throw new Error(`record "${r.id}" has no OUT shadow: LiRA needs models that did not train on it`);
    const muOut = meanOf(outs);
    const sOut = opts.fixedVariance ? globalSigma : Math.max(stdOf(outs), MIN_SIGMA);
    if (opts.offline) return (phi - muOut) / sOut;
    const ins = phiIn[i]!;
    if (ins.length === 0) throw new Error(`record "${r.id}" has no IN shadow: online LiRA needs models that trained on it (or use --offline)`);
    const sIn = opts.fixedVariance ? globalSigma : Math.max(stdOf(ins), MIN_SIGMA);
    return normalLogpdf(phi, meanOf(ins), sIn) - normalLogpdf(phi, muOut, sOut);
  });
}

/**
 * Are the shadows calibrated to the target? On records neither trained on (the audit's holdout),
 * the target's φ should look like the OUT shadows' φ; a two-sample KS test compares the target's φ
 * of those records with the OUT-shadow φ of the same records, pooled. A small p-value says the
 * shadows are trained unlike the target (another recipe, data size or architecture), so LiRA's
 * Gaussians are off and its result is a lower bound. `records` are holdout records only.
 */
export function shadowCalibration(records: RecordShadows[]): KsResult & { targets: number; shadows: number } {
  const target = records.map((r) => logit(r.target));
  const outs = records.flatMap((r) => r.outside.map(logit));
  return { ...ks2samp(target, outs), targets: target.length, shadows: outs.length };
}

export interface RmiaOptions {
  offline?: boolean;
  /** Offline scaling of the OUT mean toward the IN mean it cannot see (default 0.3). */
  a?: number;
  /** Likelihood-ratio threshold (default 2). */
  gamma?: number;
}

export function rmiaScores(
  records: RecordShadows[],
  population: { target: number; references: number[] }[],
  opts: RmiaOptions = {},
): number[] {
  const a = opts.a ?? 0.3;
  const gamma = opts.gamma ?? 2;
  if (population.length === 0) throw new Error('RMIA needs population points z (rows with "population": true)');
  const prOffline = (outs: number[]) => 0.5 * ((1 + a) * meanOf(outs) + (1 - a));
  // p(z) / Pr(z), once per population point.
  const zRatio = population.map((z) => z.target / (opts.offline ? prOffline(z.references) : meanOf(z.references)));
  return records.map((r) => {
    const refs = opts.offline ? r.outside : [...r.inside, ...r.outside];
    if (refs.length === 0) throw new Error(`record "${r.id}" has no ${opts.offline ? 'OUT ' : ''}reference model`);
    const pr = opts.offline ? prOffline(r.outside) : meanOf(refs);
    const ratio = r.target / pr;
    let count = 0;
    for (const zr of zRatio) if (ratio / zr >= gamma) count++;
    return count / zRatio.length;
  });
}
