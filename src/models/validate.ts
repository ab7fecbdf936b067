/**
 * Models are checked in the main thread before the worker pool starts, so a broken model folder is an
 * exit 2 naming the file and what is wrong — not a worker exception found after minutes of work (or an
 * exit 3 without a file name).
 *
 * For an `hf:` folder, every file the adapter (hf.ts) reads is opened: config.json (the fields the
 * adapter needs), tokenizer.json (a tokenizer whose ids fit the model's vocabulary),
 * tokenizer_config.json and generation_config.json when present, and onnx/model.onnx (an ONNX graph
 * with the decoder-with-cache inputs and outputs). Then the folder is loaded exactly as a worker loads
 * it and run on one token, with and without the key/value cache, so a graph that disagrees with its
 * config fails here. Everything is released before the pool starts.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { InputError } from '../errors.ts';
import { assertUtf8 } from '../data/utf8.ts';
import { greedyBatch, loadCausalLM, scoreBatch, scoreInJs, type CausalLM, type ScoringPath } from './hf.ts';
import { loadTextTokenizer, type TextTokenizer } from './classifier.ts';

/** What the main thread learns about a causal LM while validating it (used for budget checks). */
export interface CausalLMInfo {
  dir: string;
  /** Absolute path of config.json (named in budget messages). */
  configFile: string;
  /** Longest sequence the model accepts: prompt plus generated tokens, or a scored record. */
  context: number;
  /** The config.json field `context` came from. */
  contextField: 'n_positions' | 'max_position_embeddings' | 'max_model_len';
  vocabSize: number;
  layers: number;
  /** Where scoring reduces the logits (hf.ts ScoringPath); `scoringNote` says why not `runtime`. */
  scoring?: ScoringPath;
  scoringNote?: string;
}

/** Largest |difference| allowed between the runtime and the JavaScript reduction on the probe (float32 rounding is ~1e-6). */
const SCORING_PROBE_TOLERANCE = 1e-3;

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();

/** A JSON file parsed as an object; an InputError naming the file (and line, for a syntax error). */
export async function readJsonObject(file: string, what: string): Promise<Json> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${what} not found` : `cannot read ${what}: ${firstLine(e)}`, { file });
  }
  assertUtf8(buf, file, what);
  const text = buf.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = firstLine(e);
    // V8 gives a position for most syntax errors; a file cut short ends on its last line.
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : /end of JSON/.test(msg) ? text.trimEnd().split('\n').length : undefined;
    const why = msg.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '');
    throw new InputError(`${what} is not valid JSON: ${why}`, line !== undefined ? { file, line } : { file });
  }
  if (!isObject(value)) throw new InputError(`${what} must be a JSON object, got ${Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value}`, { file });
  return value;
}

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** The first of `names` that config.json sets, or an InputError saying which are missing. */
function intField(cfg: Json, names: string[], what: string, file: string): { value: number; name: string } {
  for (const name of names) {
    const v = cfg[name];
    if (v === undefined || v === null) continue;
    if (!positiveInt(v)) throw new InputError(`${name} (${what}) must be a positive integer, got ${JSON.stringify(v)}`, { file, field: name });
    return { value: v, name };
  }
  throw new InputError(`has no ${names.join(' or ')} (${what}); the causal-LM adapter needs it`, { file, field: names[0]! });
}

/** Validates an `hf:` folder; `label` (e.g. `models.before`) is named in messages about the whole folder. */
export async function validateCausalLM(dir: string, label: string): Promise<CausalLMInfo> {
  const abs = path.resolve(dir);
  const configFile = path.join(abs, 'config.json');
  const cfg = await readJsonObject(configFile, 'config.json');
  if (typeof cfg.model_type !== 'string' || cfg.model_type.trim() === '') {
    throw new InputError(`has no model_type (e.g. "gpt2"); @huggingface/transformers picks the architecture by it`, { file: configFile, field: 'model_type' });
  }
  const vocab = intField(cfg, ['vocab_size'], 'the vocabulary size', configFile);
  const ctx = intField(cfg, ['n_positions', 'max_position_embeddings'], 'the context length in tokens', configFile);
  const layers = intField(cfg, ['n_layer', 'num_hidden_layers'], 'the number of layers', configFile);
  const heads = intField(cfg, ['n_head', 'num_attention_heads'], 'the number of attention heads', configFile);
  const hidden = intField(cfg, ['n_embd', 'hidden_size'], 'the hidden size', configFile);
  const kvHeads = cfg.num_key_value_heads === undefined ? heads : intField(cfg, ['num_key_value_heads'], 'key/value heads', configFile);
  const headDim = cfg.head_dim === undefined ? hidden.value / heads.value : intField(cfg, ['head_dim'], 'the size of one attention head', configFile).value;
  if (!Number.isInteger(headDim)) {
    throw new InputError(`${hidden.name} (${hidden.value}) is not a multiple of ${heads.name} (${heads.value})`, { file: configFile, field: hidden.name });
  }
  for (const name of ['bos_token_id', 'eos_token_id', 'pad_token_id']) {
    const v = cfg[name];
    if (v === undefined || v === null || Array.isArray(v)) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v >= vocab.value) {
      throw new InputError(`${name} must be a token id from 0 to vocab_size − 1 (${vocab.value - 1}), got ${JSON.stringify(v)}`, { file: configFile, field: name });
    }
  }

  for (const f of ['tokenizer_config.json', 'generation_config.json']) {
    const p = path.join(abs, f);
    try {
      await readFile(p);
    } catch {
      continue; // optional
    }
    await readJsonObject(p, f);
  }

  const tokFile = path.join(abs, 'tokenizer.json');
  const tokJson = await readJsonObject(tokFile, 'tokenizer.json');
  if (!isObject(tokJson.model) || typeof tokJson.model.type !== 'string') {
    throw new InputError('is not a Hugging Face tokenizer: no "model" with a "type" (e.g. "BPE"); save it with tokenizer.save_pretrained()', { file: tokFile, field: 'model' });
  }
  let tok: PreTrainedTokenizer;
  try {
    tok = await AutoTokenizer.from_pretrained(abs, { local_files_only: true });
    tok.encode('a');
  } catch (e) {
    throw new InputError(`@huggingface/transformers cannot load this tokenizer: ${firstLine(e)}`, { file: tokFile });
  }
  // A token id at or beyond the embedding table makes the model fail (or read garbage) at run time.
  let maxId = -1;
  for (const id of tok.get_vocab().values()) if (id > maxId) maxId = id;
  if (maxId >= vocab.value) {
    throw new InputError(
      `the tokenizer has token id ${maxId}, but the model's vocab_size is ${vocab.value} (config.json): the tokenizer does not belong to this model`,
      { file: tokFile },
    );
  }

  const onnxFile = path.join(abs, 'onnx', 'model.onnx');
  await checkDecoderGraph(onnxFile, { layers: layers.value, kvHeads: kvHeads.value, headDim, vocab: vocab.value, configFile });

  // The real loader, as a worker will use it, on one token: catches what the metadata cannot show.
  // The runtime scoring path is tried first; a graph it cannot extend (or whose reduction disagrees
  // with the JavaScript one on the probe) is scored in JavaScript, and the reason is kept.
  let scoring: ScoringPath = 'runtime';
  let scoringNote: string | undefined;
  try {
    let lm: CausalLM;
    try {
      lm = await loadCausalLM(abs, 1, 'cpu', 'runtime');
    } catch (e) {
      scoring = 'js';
      scoringNote = firstLine(e);
      lm = await loadCausalLM(abs, 1, 'cpu', 'js');
    }
    try {
      const first = lm.eosId ?? 0;
      const probe = [[first, first, first]];
      const [ours] = await scoreBatch(lm, probe, { stats: true });
      if (scoring === 'runtime') {
        const [js] = await scoreInJs(lm, probe, { stats: true });
        const diff = Math.max(...(['logprobs', 'mu', 'sigma'] as const).flatMap((k) => Array.from(ours![k]!, (v, t) => Math.abs(v - js![k]![t]!))));
        if (!(diff <= SCORING_PROBE_TOLERANCE)) {
          scoring = 'js';
          scoringNote = `the runtime reduction differs from the JavaScript one by ${diff} on a probe`;
        }
      }
      await greedyBatch(lm, [[first]], 2);
    } finally {
      await lm.model.dispose();
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${label}: the model cannot be loaded and run on one token by @huggingface/transformers: ${firstLine(e)}`, { file: onnxFile });
  }
  return { dir: abs, configFile, context: ctx.value, contextField: ctx.name as CausalLMInfo['contextField'], vocabSize: vocab.value, layers: layers.value, scoring, ...(scoringNote ? { scoringNote } : {}) };
}

type IoMeta = { name: string; type?: string; shape?: (number | string)[] };

/** An ONNX session in this thread, or an InputError naming the file. */
export async function openOnnx(file: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    throw new InputError(`not an ONNX model onnxruntime can load (truncated or not an .onnx file?): ${firstLine(e)}`, { file });
  }
}

/**
 * The graph must be a decoder with a key/value cache, as optimum exports it: inputs input_ids,
 * attention_mask (position_ids optional), past_key_values.{i}.key|value; outputs logits and
 * present.{i}.key|value — for exactly config.json's number of layers, with its head shape.
 */
async function checkDecoderGraph(
  file: string,
  c: { layers: number; kvHeads: number; headDim: number; vocab: number; configFile: string },
): Promise<void> {
  const session = await openOnnx(file);
  try {
    const inputs: IoMeta[] = (session as unknown as { inputMetadata?: IoMeta[] }).inputMetadata ?? session.inputNames.map((name) => ({ name }));
    const outputs: IoMeta[] = (session as unknown as { outputMetadata?: IoMeta[] }).outputMetadata ?? session.outputNames.map((name) => ({ name }));
    const pastNames: string[] = [];
    const presentNames: string[] = [];
    for (let l = 0; l < c.layers; l++)
      for (const kv of ['key', 'value']) {
        pastNames.push(`past_key_values.${l}.${kv}`);
        presentNames.push(`present.${l}.${kv}`);
      }
    const needIn = ['input_ids', 'attention_mask', ...pastNames];
    const needOut = ['logits', ...presentNames];
    const have = (list: IoMeta[], n: string) => list.some((x) => x.name === n);
    const missIn = needIn.filter((n) => !have(inputs, n));
    const missOut = needOut.filter((n) => !have(outputs, n));
    if (missIn.length > 0 || missOut.length > 0) {
      const cacheHint = [...missIn, ...missOut].some((n) => n.startsWith('past') || n.startsWith('present'))
        ? ` (config.json says ${c.layers} layers; export the model with its key/value cache, e.g. optimum-cli export onnx --task text-generation-with-past)`
        : '';
      const parts = [missIn.length ? `inputs ${list(missIn)}` : '', missOut.length ? `outputs ${list(missOut)}` : ''].filter(Boolean).join(' and ');
      throw new InputError(`the graph lacks the ${parts} the causal-LM adapter needs${cacheHint}; it has inputs ${list(inputs.map((x) => x.name))}`, { file });
    }
    const extra = inputs.filter((x) => !needIn.includes(x.name) && x.name !== 'position_ids');
    if (extra.length > 0) {
      throw new InputError(`the graph has inputs the causal-LM adapter cannot feed: ${list(extra.map((x) => x.name))} (expected input_ids, attention_mask, position_ids and past_key_values.{i}.key|value)`, { file });
    }
    for (const x of inputs) {
      const want = x.name.startsWith('past_key_values.') ? 'float32' : 'int64';
      if (x.type !== undefined && x.type !== want) {
        throw new InputError(`input "${x.name}" has type ${x.type}; the adapter feeds ${want} (export the model in fp32 with int64 ids)`, { file });
      }
    }
    const logits = outputs.find((x) => x.name === 'logits')!;
    const lastDim = logits.shape?.[logits.shape.length - 1];
    if (typeof lastDim === 'number' && lastDim !== c.vocab) {
      throw new InputError(`output "logits" has ${lastDim} entries per token but config.json (${c.configFile}) says vocab_size ${c.vocab}: the graph and the config do not belong together`, { file });
    }
    const past = inputs.find((x) => x.name === 'past_key_values.0.key')!;
    const [, h, , d] = past.shape ?? [];
    if ((typeof h === 'number' && h !== c.kvHeads) || (typeof d === 'number' && d !== c.headDim)) {
      throw new InputError(
        `input "past_key_values.0.key" is shaped [batch, ${h}, past, ${d}] but config.json (${c.configFile}) implies [batch, ${c.kvHeads}, past, ${c.headDim}] (heads, hidden size / heads): the graph and the config do not belong together`,
        { file },
      );
    }
  } finally {
    await session.release();
  }
}

const list = (xs: string[]) => (xs.length > 4 ? `${xs.slice(0, 4).join(', ')} … (${xs.length})` : xs.join(', ') || 'none');

/** The tokenizer.json of an onnx: text classifier, loaded here; an InputError naming it when it is not one. */
export async function validateTextTokenizer(file: string): Promise<TextTokenizer> {
  const json = await readJsonObject(file, 'tokenizer.json');
  if (!isObject(json.model) || typeof json.model.type !== 'string') {
    throw new InputError('is not a Hugging Face tokenizer: no "model" with a "type" (e.g. "BPE")', { file, field: 'model' });
  }
  try {
    const tok = await loadTextTokenizer(file);
    tok.encode('a');
    return tok;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`@huggingface/transformers cannot load this tokenizer: ${firstLine(e)}`, { file });
  }
}
