/**
 * Shadow-model membership scores from per-(model, record) confidences — the part of LiRA and RMIA
 * that needs no model, shared by `privacy-audit evaluate --observations` and (later) `run` on
 * classifiers. Conventions (pinned in the shadow-model issue; the paper wins over reference code):
 *
 * LiRA (Carlini et al., IEEE S&P 2022, §4): φ = log(p / (1 − p)), p clipped to [1e-12, 1 − 1e-12];
 *   per record, μ and σ (ddof 0) of φ over the IN shadows and over the OUT shadows.
 *   online  = log N(φ_target; μ_in, σ_in) − log N(φ_target; μ_out, σ_out)
 *   offline = Φ((φ_target − μ_out) / σ_out)   (the paper's one-sided test; the reference code's
 *             offline variant uses a two-sided density instead)
 *   fixed variance: σ_in and σ_out are the standard deviations of all IN and of all OUT φ values,
 *   pooled over records (the reference code reuses the IN value for both — a quirk, not ours).
 *   σ is floored at MIN_SIGMA = 1e-6 so identical shadow values give a finite score.
 * RMIA (Zarifzadeh, Liu, Shokri, ICML 2024, §3): Pr(x) = mean confidence of x over the reference
 *   models (online), or ½((1 + a)·mean_OUT(x) + (1 − a)) (offline, OUT references only); the same
 *   for each population point z, from the references the caller passes for it (in `run`: all of
 *   them online, the ones that did not train on z offline); LR(x, z) = (p(x)/Pr(x)) / (p(z)/Pr(z));
 *   score(x) = fraction of z with LR(x, z) ≥ γ.
 * Higher = more likely member, always.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalLogpdf from '@stdlib/stats-base-dists-normal-logpdf';

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
  const pooledIn = opts.fixedVariance ? stdOf(phiIn.flat()) : NaN;
  const pooledOut = opts.fixedVariance ? stdOf(phiOut.flat()) : NaN;
  return records.map((r, i) => {
    const phi = logit(r.target);
    const outs = phiOut[i]!;
    if (outs.length === 0) throw new Error(`record "${r.id}" has no OUT shadow: LiRA needs models that did not train on it`);
    const muOut = meanOf(outs);
    const sOut = Math.max(opts.fixedVariance ? pooledOut : stdOf(outs), MIN_SIGMA);
    if (opts.offline) return normalCdf(phi, muOut, sOut);
    const ins = phiIn[i]!;
    if (ins.length === 0) throw new Error(`record "${r.id}" has no IN shadow: online LiRA needs models that trained on it (or use --offline)`);
    const sIn = Math.max(opts.fixedVariance ? pooledIn : stdOf(ins), MIN_SIGMA);
    return normalLogpdf(phi, meanOf(ins), sIn) - normalLogpdf(phi, muOut, sOut);
  });
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
