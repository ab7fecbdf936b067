import { deflate } from 'pako';
import { z } from 'zod';
import { mean, scoreSplits, type LmEvidence } from '../lm-membership.ts';
import { defineAttack } from '../types.ts';
import { collect } from './tasks.ts';

export const zlibOptions = z.strictObject({});

/**
 * Bytes of the record's UTF-8 text after zlib compression, equal to Python's
 * `len(zlib.compress(text.encode()))` (level 6, zlib header). pako, not node:zlib: Node 20 bundles
 * Chromium's zlib fork, whose output length differs from Python's zlib 1.2 on most support-desk
 * records (by up to 4 bytes), which would shift scores against MIMIR's by a few per cent.
 */
export const zlibBytes = (text: string): number => deflate(Buffer.from(text, 'utf8')).length;

/**
 * zlib ratio (Carlini et al., USENIX Security 2021, §5.2 "zlib"): the model's log-perplexity relative
 * to the text's zlib entropy, so that text that is merely easy (repetitive) does not look memorised.
 * Score = −NLL / zlibBytes (MIMIR's NLL/zlib, negated so that higher = member).
 */
export const zlib = defineAttack<z.infer<typeof zlibOptions>, LmEvidence>({
  meta: {
    id: 'zlib',
    title: 'Loss calibrated by compressibility does not separate deleted records',
    failureTitle: 'Loss calibrated by compressibility separates deleted records',
    description:
      'Low loss can just mean the text is predictable. Dividing the loss by how well zlib compresses the ' +
      'text removes that effect, so what is left points at memorisation of this particular record.',
    family: 'membership',
    requires: ['tokenLogprobs'],
    reference:
      'Carlini et al. Extracting Training Data from Large Language Models. USENIX Security 2021, §5.2 (zlib metric) and §6; MIMIR mimir/attacks/zlib.py.',
  },
  options: zlibOptions,
  collect,
  evaluate: (evidence, ctx) => scoreSplits(evidence, ctx, (s, r) => mean(s.logprobs) / zlibBytes(r.text)),
});
