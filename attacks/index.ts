/**
 * The attack registry: one line per attack, in the order they run and appear in the report.
 * Adding an attack = its folder (index.ts, tasks.ts, README.md), one line here, and its test.
 */
import { canaryExposure } from './canary-exposure/index.ts';
import { lira } from './lira/index.ts';
import { loss } from './loss/index.ts';
import { minK } from './min-k/index.ts';
import { minKPlusPlus } from './min-k-plus-plus/index.ts';
import { piiExtraction } from './pii-extraction/index.ts';
import { prefixExtraction } from './prefix-extraction/index.ts';
import { reference } from './reference/index.ts';
import { rmia } from './rmia/index.ts';
import { samia } from './samia/index.ts';
import { shadow } from './shadow/index.ts';
import type { Attack } from './types.ts';
import { zlib } from './zlib/index.ts';

export const ATTACKS: readonly Attack<any, any>[] = [loss, zlib, minK, minKPlusPlus, reference, shadow, lira, rmia, samia, prefixExtraction, piiExtraction, canaryExposure];

export const attackIds = (): string[] => ATTACKS.map((a) => a.meta.id);

export const getAttack = (id: string): Attack<any, any> | undefined => ATTACKS.find((a) => a.meta.id === id);

// Attacks on a released synthetic dataset (target: { synthetic }): no model is queried.
import { singlingOut } from './singling-out/index.ts';
import { linkability } from './linkability/index.ts';
import { attributeInference } from './attribute-inference/index.ts';
import { domias } from './domias/index.ts';
import { dcr } from './dcr/index.ts';
import { textOverlap } from './text-overlap/index.ts';
import type { SyntheticAttack } from './synthetic-types.ts';

export const SYNTHETIC_ATTACKS: readonly SyntheticAttack<any>[] = [singlingOut, linkability, attributeInference, domias, dcr, textOverlap];

export const getSyntheticAttack = (id: string): SyntheticAttack<any> | undefined => SYNTHETIC_ATTACKS.find((a) => a.meta.id === id);
