/**
 * The native routes of servers whose OpenAI-compatible route cannot score a prompt
 * (shared/research/api-targets.md): SGLang's `POST /generate` with `return_logprob` and
 * `logprob_start_len: 0` (§2), and Text Generation Inference's `POST /generate` with
 * `decoder_input_details` (§3; only when the server was launched with `--enable-prefill-logprobs`,
 * otherwise `details.prefill` comes back empty with HTTP 200). Request bodies and checked readers;
 * src/models/served.ts sends them through the same client, limiter, retries and cache.
 */
import { z } from 'zod';

/** SGLang: score `ids` as given (input_ids: no re-tokenisation); nothing generated. */
export const sglangScoreBody = (ids: number[]) => ({
  input_ids: ids,
  sampling_params: { max_new_tokens: 0, temperature: 0 },
  return_logprob: true,
  logprob_start_len: 0,
  top_logprobs_num: 0,
});

const sglangScore = z.object({
  meta_info: z.object({
    // [logprob, token id, text]; the first logprob is null (no conditional).
    input_token_logprobs: z.array(z.tuple([z.number().nullable(), z.int(), z.string().nullable()])),
  }),
});

/** Per-position log-probabilities (position 0 null) from SGLang's answer, or what is wrong with it. */
export function fromSglang(raw: unknown, ids: number[]): (number | null)[] | Error {
  const r = sglangScore.safeParse(raw);
  if (!r.success) return new Error('the answer has no meta_info.input_token_logprobs (return_logprob was ignored)');
  const rows = r.data.meta_info.input_token_logprobs;
  if (rows.length !== ids.length) return new Error(`the server scored ${rows.length} prompt tokens, expected ${ids.length}`);
  if (rows.some((row, i) => row[1] !== ids[i])) return new Error('the server scored other token ids than it was sent');
  return rows.map((row, i) => (i === 0 ? null : row[0]));
}

/** TGI takes text: the server tokenises it, and the ids it scored are checked against ours. */
export const tgiScoreBody = (text: string) => ({
  inputs: text,
  parameters: { max_new_tokens: 1, details: true, decoder_input_details: true, do_sample: false },
});

const tgiDetails = z.object({
  generated_text: z.string().optional(),
  details: z.object({
    prefill: z.array(z.object({ id: z.int(), logprob: z.number().nullable() })).default([]),
    tokens: z.array(z.object({ id: z.int(), special: z.boolean().optional() })).default([]),
  }),
});

/** Per-position log-probabilities from TGI's `details.prefill`, or what is wrong with it. */
export function fromTgi(raw: unknown, ids: number[]): (number | null)[] | Error {
  const r = tgiDetails.safeParse(Array.isArray(raw) ? raw[0] : raw);
  if (!r.success) return new Error('the answer has no details (details was ignored)');
  const prefill = r.data.details.prefill;
  if (prefill.length === 0) return new Error('details.prefill is empty (TGI 3 returns prompt log-probabilities only when launched with --enable-prefill-logprobs)');
  if (prefill.length !== ids.length || prefill.some((p, i) => p.id !== ids[i])) {
    return new Error(`the server tokenised the text into ${prefill.length} tokens (${prefill.slice(0, 8).map((p) => p.id).join(' ')}${prefill.length > 8 ? ' …' : ''}), the local tokenizer into ${ids.length} (${ids.slice(0, 8).join(' ')}${ids.length > 8 ? ' …' : ''})`);
  }
  return prefill.map((p, i) => (i === 0 ? null : p.logprob));
}

/** TGI greedy continuation: `do_sample: false` (TGI refuses temperature 0). */
export const tgiGenerateBody = (text: string, maxNewTokens: number, seed: number) => ({
  inputs: text,
  parameters: { max_new_tokens: maxNewTokens, do_sample: false, details: true, seed },
});

/** The generated token ids of a TGI answer. */
export function tgiGenerated(raw: unknown): number[] | Error {
  const r = tgiDetails.safeParse(Array.isArray(raw) ? raw[0] : raw);
  if (!r.success) return new Error('the answer has no details.tokens');
  return r.data.details.tokens.map((t) => t.id);
}

/** TGI's POST /tokenize answer: one {id, text, special, start, stop} per token. */
export const tgiTokenize = z.array(z.object({ id: z.int() }));
