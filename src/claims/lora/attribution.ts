/**
 * Extraction hits attributed to a LoRA adapter (shared/research/sisa-lora.md B.3; Carlini et al.,
 * USENIX Security 2021 §6 compare against a reference model for the same reason): a value the frozen
 * base model also emits from the same prompt is something the base knew before the fine-tuning data
 * (a public fact, a template), not a leak of that data. A target's trial keeps its own outcome in
 * `raw`; its `hit` / `near` count only when the base's trial on the same prompt missed.
 */
import type { ExtractionObservation } from '../../../attacks/types.ts';

/** `base` is the same attack's observation on the base model (same splits, same prompts, same order). */
export function attributeToAdapter(target: ExtractionObservation, base: ExtractionObservation): ExtractionObservation {
  if (base.trials.length !== target.trials.length) {
    throw new Error(`attribution: ${target.model} tried ${target.trials.length} prompts, the base ${base.trials.length}`);
  }
  const trials = target.trials.map((t, i) => {
    const b = base.trials[i]!;
    if (b.split !== t.split || b.recordId !== t.recordId || b.target !== t.target) {
      throw new Error(`attribution: prompt ${i} is ${t.split}/${t.recordId}/${t.target} on ${target.model} but ${b.split}/${b.recordId}/${b.target} on the base`);
    }
    const hit = t.hit && !b.hit;
    const near = hit || (t.near && !b.near); // hit implies near, as for every trial
    const { emitted, ...rest } = t;
    return { ...rest, hit, near, raw: { hit: t.hit, near: t.near }, ...(hit && emitted !== undefined ? { emitted } : {}) };
  });
  return { ...target, trials };
}
