/**
 * Seeded synthetic stand-in for Purchase-100 (Shokri et al. 2017): binary feature vectors
 * (default 600 "bought / not bought" flags) in 100 classes. Each class has a prototype vector of
 * per-feature probabilities; a record of that class draws each bit independently from the
 * prototype. Deterministic per seed (xoroshiro128+ via pure-rand).
 */
import type { RandomGenerator } from 'pure-rand';
import { seededRng } from '../metrics/bootstrap.ts';

export interface PurchaseOptions {
  /** Number of records. */
  n: number;
  /** Binary features per record (default 600). */
  features?: number;
  /** Number of classes (default 100). */
  classes?: number;
  seed: number;
}

export interface PurchaseData {
  /** n × features, row-major, values 0 or 1. */
  features: Float32Array;
  /** n class labels in [0, classes). */
  labels: Int32Array;
  dim: number;
  classes: number;
}

/** Uniform double in [0, 1) from 53 random bits. */
function nextDouble(rng: RandomGenerator): number {
  const hi = rng.unsafeNext() >>> 5; // 27 bits
  const lo = rng.unsafeNext() >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/**
 * Class prototypes: features are sparse like shopping baskets. Each class "likes" about 8% of
 * the features (probability 0.2–0.6); every other feature has a small shared background rate.
 */
function prototypes(rng: RandomGenerator, dim: number, classes: number): Float64Array {
  const background = new Float64Array(dim);
  for (let j = 0; j < dim; j++) background[j] = 0.02 + 0.13 * nextDouble(rng);
  const p = new Float64Array(classes * dim);
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < dim; j++) {
      const liked = nextDouble(rng) < 0.08;
      p[c * dim + j] = liked ? 0.2 + 0.4 * nextDouble(rng) : background[j]!;
    }
  }
  return p;
}

function checkPositiveInt(v: number, name: string): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${String(v)}`);
}

/**
 * The class prototypes depend only on (seed, features, classes), so two calls with the same seed
 * and different n share the population; use a different seed for the records themselves via
 * `recordSeed` to draw fresh records from the same population.
 */
export function makePurchase(options: PurchaseOptions & { recordSeed?: number }): PurchaseData {
  const { n, seed } = options;
  const dim = options.features ?? 600;
  const classes = options.classes ?? 100;
  checkPositiveInt(n, 'n');
  checkPositiveInt(dim, 'features');
  checkPositiveInt(classes, 'classes');
  const protoRng = seededRng(seed);
  const proto = prototypes(protoRng, dim, classes);
  const rng = options.recordSeed === undefined ? protoRng : seededRng(options.recordSeed);
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.min(classes - 1, Math.floor(nextDouble(rng) * classes));
    labels[i] = c;
    const row = i * dim;
    const pr = c * dim;
    for (let j = 0; j < dim; j++) features[row + j] = nextDouble(rng) < proto[pr + j]! ? 1 : 0;
  }
  return { features, labels, dim, classes };
}
