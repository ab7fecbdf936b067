/**
 * The config file's schema (zod 4). Validation only — no transforms — so the same schema yields the
 * JSON Schema editors use (`scripts/write-schema.ts` → `schema/config.schema.json`). Turning the parsed
 * config into absolute paths, model refs and hashed inputs happens in `load.ts`.
 *
 * Every object is strict: an unknown key is an error naming the keys that are allowed. Descriptions
 * (`.meta({ description })`) double as the "expected …" part of error messages.
 */
import { z } from 'zod';
import { assertSchema } from '../assert/names.ts';
import { syntheticAssertSchema } from '../assert/synthetic-names.ts';
import { CEILING_DATA_FILE_MIB, CEILING_RECORD_KIB, DEFAULT_MAX_DATA_FILE_MIB, DEFAULT_MAX_RECORD_KIB } from './limits.ts';

/** Accepted model ref prefixes, promptfoo-style. */
export const MODEL_REF_PREFIXES = ['hf', 'onnx', 'tfjs', 'openai'] as const;
export type ModelRefKind = (typeof MODEL_REF_PREFIXES)[number];

const PREFIX_HELP = 'hf:<folder>, onnx:<file.onnx>, tfjs:<model.json> or openai:<baseURL>#<served model id>';

/** A served model's baseURL: http(s), a host, an optional path. */
export const HTTP_URL = /^https?:\/\/[^\s/]+(\/\S*)?$/;

/** Data file extensions `readRecords` understands. */
export const DATA_EXTENSIONS = ['.jsonl', '.ndjson', '.csv'] as const;

/** Splits `hf:./dir` into kind and (unresolved) path; undefined when the prefix is not known. */
export function splitModelRef(ref: string): { kind: ModelRefKind; path: string } | undefined {
  const m = /^([a-z]+):(.*)$/.exec(ref);
  if (!m) return undefined;
  const kind = m[1] as ModelRefKind;
  if (!MODEL_REF_PREFIXES.includes(kind)) return undefined;
  return { kind, path: m[2]! };
}

/** A strict object whose unknown-key error lists the keys that are allowed. */
function strict<S extends z.ZodRawShape>(shape: S, description?: string) {
  const allowed = Object.keys(shape);
  const schema = z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      const keys = iss.keys.map((k) => `"${k}"`).join(', ');
      return `unknown key${iss.keys.length > 1 ? 's' : ''} ${keys}; allowed keys: ${allowed.join(', ')}`;
    },
  });
  return description ? schema.meta({ description }) : schema;
}

const nonEmpty = (what: string, noun = 'a string') =>
  z.string({ error: `expected ${noun}: ${what}` }).min(1, `must not be empty: ${what}`).meta({ description: what });

const dataPath = (what: string) => nonEmpty(`${what} (${DATA_EXTENSIONS.join(', ')})`, 'a file path');

const modelRefString = z
  .string()
  .regex(/^(hf|onnx|tfjs|openai):.*\S/, {
    error: (iss) => {
      const s = String(iss.input);
      const parts = splitModelRef(s);
      return parts
        ? `model ref "${s}" has no path after "${parts.kind}:"`
        : `unknown model ref "${s}": expected a prefix, one of ${PREFIX_HELP}`;
    },
  })
  .meta({ description: `model ref: ${PREFIX_HELP}` });

const modelRefObject = strict(
  {
    ref: modelRefString,
    tokenizer: nonEmpty('tokenizer.json for an onnx: model (relative to the config file)', 'a file path').optional(),
    outputs: z
      .enum(['auto', 'logits', 'probabilities'], { error: 'expected "auto", "logits" or "probabilities"' })
      .meta({ description: 'what a classifier outputs (onnx:, tfjs:): "auto" detects it (rows of non-negative values summing to 1 are probabilities), default "auto"' })
      .optional(),
  },
  'model ref with options',
).superRefine((o, ctx) => {
  if (o.tokenizer !== undefined && !o.ref.startsWith('onnx:')) {
    ctx.addIssue({
      code: 'custom',
      path: ['tokenizer'],
      message: o.ref.startsWith('openai:')
        ? `a served model's tokenizer and client settings go in { kind: openai-compatible, baseURL, model, tokenizer, ... } (got ref "${o.ref}")`
        : `"tokenizer" is only for onnx: refs (an hf: folder has its own tokenizer.json; got "${o.ref}")`,
    });
  }
  if (o.outputs !== undefined && o.ref.startsWith('hf:')) {
    ctx.addIssue({ code: 'custom', path: ['outputs'], message: `"outputs" is for classifiers (onnx:, tfjs:); an hf: model is a causal LM (got "${o.ref}")` });
  }
});

/**
 * A model served over an OpenAI-compatible HTTP API (vLLM, SGLang's OpenAI route, TGI's messages
 * API, a vendor's completions endpoint): src/models/served.ts. The short form is the string
 * `openai:<baseURL>#<model>`, whose tokenizer is then the first local hf: model's of the audit.
 */
export const servedModelSchema = strict(
  {
    kind: z.literal('openai-compatible', { error: 'expected kind: openai-compatible' }).meta({ description: 'a model served over an OpenAI-compatible HTTP API' }),
    baseURL: z
      .string({ error: 'expected a URL string' })
      .regex(HTTP_URL, 'expected an http(s) URL, e.g. http://127.0.0.1:8000/v1')
      .meta({ description: 'the API root the OpenAI client talks to, e.g. http://127.0.0.1:8000/v1' }),
    model: nonEmpty('the served model id, as GET <baseURL>/models lists it'),
    tokenizer: nonEmpty(
      "folder with the model's tokenizer.json and config.json (the base model's folder: fine-tunes keep its tokenizer), relative to the config file; checked against the server's own tokenization",
      'a folder path',
    ).optional(),
    apiKeyEnv: z
      .string({ error: 'expected an environment variable name' })
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name, e.g. VLLM_API_KEY')
      .meta({ description: 'environment variable holding the API key (never the key itself: keys appear in no file or output)' })
      .optional(),
    protocol: z
      .enum(['auto', 'echo', 'prompt-logprobs', 'sglang', 'tgi', 'chat'], { error: 'expected "auto", "echo", "prompt-logprobs", "sglang", "tgi" or "chat"' })
      .meta({
        description:
          'how prompts are scored: "auto" probes the server (completions echo + logprobs, vLLM prompt_logprobs, SGLang\'s native /generate, TGI\'s native /generate, else none); "chat" scores nothing and generates through chat; default "auto"',
      })
      .optional(),
    maxConcurrency: z.int({ error: 'expected an integer' }).min(1, 'expected at least 1').max(256, 'expected at most 256').meta({ description: 'requests in flight at once (default 4)' }).optional(),
    timeoutSeconds: z.number({ error: 'expected a number of seconds' }).positive('expected a positive number').max(3600, 'expected at most 3600').meta({ description: 'timeout of one request attempt, in seconds (default 60)' }).optional(),
    maxRetries: z.int({ error: 'expected an integer' }).min(0, 'expected 0 or more').max(20, 'expected at most 20').meta({ description: 'retries of a failed request (429, 5xx, timeouts, connection errors), honouring retry-after (default 4)' }).optional(),
    budget: strict(
      {
        requests: z.int({ error: 'expected an integer' }).min(1, 'expected a positive integer').meta({ description: 'most requests this model may be sent in one run' }).optional(),
        tokens: z.int({ error: 'expected an integer' }).min(1, 'expected a positive integer').meta({ description: 'most tokens (prompt + generated) this model may be sent in one run' }).optional(),
      },
      'a ceiling on what one run may send this model; checked before anything is sent (see --dry-run)',
    ).optional(),
  },
  'a model served over an OpenAI-compatible API',
);
export type ServedModelInput = z.output<typeof servedModelSchema>;

/**
 * A LoRA adapter over a frozen base model (src/claims/lora): the audit runs `merged` (the base with
 * the adapter merged in, exported like the base), after checking that merged − base = (alpha/r)·B·A
 * on every adapted weight and that nothing else changed. `base` becomes the default `reference`.
 */
const hfRefString = (what: string) =>
  z
    .string({ error: `expected an hf: model ref: ${what}` })
    .regex(/^hf:.*\S/, `expected an hf: model ref (hf:<folder>): ${what}`)
    .meta({ description: `hf:<folder>: ${what}` });
export const loraModelSchema = strict(
  {
    kind: z.literal('lora', { error: 'expected kind: lora' }).meta({ description: 'a LoRA adapter (PEFT format) over a frozen base model' }),
    base: hfRefString('the frozen base model the adapter was trained on (ONNX export with a key/value cache)'),
    adapter: nonEmpty('PEFT adapter folder: adapter_config.json and adapter_model.safetensors (relative to the config file)', 'a folder path'),
    merged: hfRefString('the base with the adapter merged in (merge_and_unload), exported to ONNX exactly like the base; what the attacks query'),
  },
  'a LoRA adapter over a frozen base model',
);
export type LoraModelInput = z.output<typeof loraModelSchema>;

/**
 * A SISA ensemble (src/claims/sisa): the training pipeline's manifest names the constituent models
 * (relative to it) and how they are aggregated; the ensemble is audited as one classifier, and the
 * manifest is checked structurally (before vs after) as the claims.sisa gates.
 */
export const sisaModelSchema = strict(
  {
    kind: z.literal('sisa', { error: 'expected kind: sisa' }).meta({ description: 'a SISA ensemble (sharded, isolated, sliced, aggregated; Bourtoule et al. 2021)' }),
    manifest: nonEmpty('the SISA manifest JSON written by the training pipeline (relative to the config file); its shards[].model refs are relative to it', 'a file path'),
  },
  'a SISA ensemble described by its training manifest',
);
export type SisaModelInput = z.output<typeof sisaModelSchema>;

const MODEL_REF_HELP = `a model ref string (${PREFIX_HELP}), { ref, tokenizer }, { kind: openai-compatible, baseURL, model, tokenizer }, { kind: lora, base, adapter, merged } or { kind: sisa, manifest }`;
export const modelRefSchema = z
  .union([modelRefString, modelRefObject, servedModelSchema, loraModelSchema, sisaModelSchema], { error: `expected ${MODEL_REF_HELP}` })
  .meta({ description: MODEL_REF_HELP });

const modelRef = (what: string) => modelRefSchema.meta({ description: `${what}: ${MODEL_REF_HELP}` });

export const fieldMapSchema = strict(
  {
    id: nonEmpty('name of the record id field (default "id")').optional(),
    subject: nonEmpty('name of the subject (person) field (default "subject")').optional(),
    text: nonEmpty('name of the text field (default "text")').optional(),
    pii: nonEmpty('name of the PII list field (default "pii")').optional(),
    features: nonEmpty('name of the feature vector field of classifier records (default "features")').optional(),
    label: nonEmpty('name of the class index field of classifier records (default "label")').optional(),
  },
  'record field names in the data files',
);

const subjectId = z
  .union([z.string().min(1), z.int()], { error: 'expected a subject id (a non-empty string or an integer)' })
  .meta({ description: 'subject id' });

export const dataSchema = strict(
  {
    members: dataPath('records the "before" model was trained on'),
    forget: dataPath('records whose deletion is verified (a subset of members)').optional(),
    forgetSubjects: z
      .array(subjectId, { error: 'expected a list of subject ids' })
      .min(1, 'expected at least one subject id')
      .meta({ description: 'subject ids whose records in members form the forget set' })
      .optional(),
    holdout: dataPath('records of the same distribution that no model was trained on'),
    population: dataPath('auxiliary records for shadow/reference models').optional(),
    fields: fieldMapSchema.optional(),
    retainSample: z
      .union([z.int().min(1, 'expected a positive integer or "all"'), z.literal('all')], {
        error: 'expected a positive integer or "all"',
      })
      .meta({
        description:
          'size of the seeded sample of retain records (members minus forget); default: the forget size; "all" = every retain record',
      })
      .optional(),
  },
  'data files (paths relative to the config file)',
).superRefine((d, ctx) => {
  if (d.forget !== undefined && d.forgetSubjects !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['forgetSubjects'],
      message: 'give either "forget" (a file) or "forgetSubjects" (subject ids), not both',
    });
  } else if (d.forget === undefined && d.forgetSubjects === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'one of "forget" (a file) or "forgetSubjects" (subject ids) is required',
    });
  }
});

export const attacksSchema = z
  .record(
    z.string().min(1),
    z.union([z.record(z.string(), z.unknown()), z.null()], {
      error: 'expected an options object (use {} for the defaults)',
    }),
    { error: 'expected a map of attack id -> options object' },
  )
  .meta({ description: 'attacks to run: attack id -> options (validated by the attack)' });

const positive = (what: string) => z.number({ error: `expected a number: ${what}` }).positive('expected a positive number').meta({ description: what });
const positiveInt = (what: string) => z.int({ error: `expected an integer: ${what}` }).min(1, 'expected a positive integer').meta({ description: what });

/** One stretch of DP-SGD at fixed noise and sampling rate (an Opacus accountant history entry). */
const dpHistoryEntry = strict(
  {
    noiseMultiplier: positive('noise multiplier σ: noise std / clipping norm'),
    sampleRate: z.number({ error: 'expected a number in (0, 1]' }).gt(0, 'expected a sample rate > 0').max(1, 'expected a sample rate of at most 1').meta({ description: 'Poisson sampling rate q = batch size / dataset size' }),
    steps: positiveInt('optimizer steps taken at this σ and q'),
  },
  'one stretch of DP-SGD at fixed σ and q',
);

/**
 * A differential-privacy claim about `before` (src/claims/dp): the (ε, δ) stated, the training
 * parameters it is said to follow from (given here, as a history, or read from the training run's own
 * record), and optionally the sealed canary manifest of a one-run audit (`privacy-audit canaries make`).
 */
export const dpClaimSchema = strict(
  {
    epsilon: positive('the claimed ε'),
    delta: z.number({ error: 'expected a number in (0, 1)' }).gt(0, 'expected δ > 0').lt(1, 'expected δ < 1').meta({ description: 'the claimed δ' }),
    accountant: z.enum(['rdp', 'prv'], { error: 'expected "rdp" or "prv"' }).meta({ description: 'the accountant the claim was computed with: "prv" (Opacus default) or "rdp" (Opacus RDPAccountant, TF Privacy / dp_accounting)' }).optional(),
    library: z.enum(['opacus', 'dp-accounting'], { error: 'expected "opacus" or "dp-accounting"' }).meta({ description: 'whose RDP orders and series: "opacus" (default) or "dp-accounting" (TF Privacy)' }).optional(),
    unit: z.enum(['example', 'user'], { error: 'expected "example" or "user"' }).meta({ description: 'what one neighbour differs by: one training example (default) or all of one user\'s examples' }).optional(),
    noiseMultiplier: positive('noise multiplier σ').optional(),
    sampleRate: z.number({ error: 'expected a number in (0, 1]' }).gt(0, 'expected a sample rate > 0').max(1, 'expected a sample rate of at most 1').meta({ description: 'Poisson sampling rate q (or give batchSize and datasetSize)' }).optional(),
    steps: positiveInt('optimizer steps (or give epochs)').optional(),
    epochs: positive('epochs: steps = ceil(epochs / q), as TF Privacy counts them').optional(),
    datasetSize: positiveInt('training examples N (q = batchSize / N)').optional(),
    batchSize: positiveInt('expected batch size B (q = B / N)').optional(),
    history: z.array(dpHistoryEntry, { error: 'expected a list of { noiseMultiplier, sampleRate, steps }' }).min(1, 'expected at least one entry').meta({ description: 'the training as stretches of fixed σ and q (instead of noiseMultiplier/sampleRate/steps)' }).optional(),
    record: nonEmpty("the training run's own record (relative to the config file): an Opacus accountant state_dict as JSON { history: [[σ, q, steps], ...], mechanism }", 'a file path').optional(),
    canaries: strict(
      {
        manifest: nonEmpty('the sealed manifest written by `privacy-audit canaries make` (relative to the config file)', 'a file path'),
        candidates: z.int({ error: 'expected an integer' }).min(10, 'expected at least 10').max(10000, 'expected at most 10000').meta({ description: 'random secrets each canary is ranked against to score it (its exposure; default 100)' }).optional(),
      },
      'one-run audit (Steinke, Nasr, Jagielski 2023): canaries included in training with probability 1/2 each',
    ).optional(),
  },
  'a differential-privacy claim about the before model',
).superRefine((c, ctx) => {
  const given = ['noiseMultiplier', 'sampleRate', 'steps', 'epochs', 'datasetSize', 'batchSize'].filter((k) => c[k as keyof typeof c] !== undefined);
  const sources = [given.length > 0, c.history !== undefined, c.record !== undefined].filter(Boolean).length;
  if (sources !== 1) {
    ctx.addIssue({ code: 'custom', path: [], message: 'give the training parameters one way: noiseMultiplier + sampleRate + steps (or epochs + datasetSize + batchSize), or history, or record' });
    return;
  }
  if (given.length === 0) return;
  if (c.noiseMultiplier === undefined) ctx.addIssue({ code: 'custom', path: ['noiseMultiplier'], message: 'required with the training parameters' });
  if (c.sampleRate === undefined && (c.batchSize === undefined || c.datasetSize === undefined))
    ctx.addIssue({ code: 'custom', path: ['sampleRate'], message: 'give sampleRate, or batchSize and datasetSize' });
  if (c.sampleRate !== undefined && c.batchSize !== undefined && c.datasetSize !== undefined && Math.abs(c.sampleRate - c.batchSize / c.datasetSize) > 1e-9 * c.sampleRate)
    ctx.addIssue({ code: 'custom', path: ['sampleRate'], message: `contradicts batchSize / datasetSize = ${c.batchSize / c.datasetSize}` });
  if (c.batchSize !== undefined && c.datasetSize !== undefined && c.batchSize > c.datasetSize) ctx.addIssue({ code: 'custom', path: ['batchSize'], message: 'expected a batch size of at most datasetSize' });
  if ((c.steps === undefined) === (c.epochs === undefined)) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'give steps or epochs (one of them)' });
});
export type DpClaimInput = z.output<typeof dpClaimSchema>;

/** The fields every config format starts with: `$schema`, `version` and `seed`. */
function commonFields(seedDescription: string) {
  return {
    $schema: z.string().meta({ description: 'JSON Schema reference for editors (ignored)' }).optional(),
    version: z.literal(1, { error: 'expected version: 1' }).default(1).meta({ description: 'config format version' }),
    seed: z
      .int({ error: 'expected an integer seed' })
      .min(0, 'expected a seed >= 0')
      .max(0xffffffff, 'expected a seed < 2^32')
      .default(1)
      .meta({ description: seedDescription }),
  };
}

export const configSchema = strict(
  {
    ...commonFields('seed for every random choice (sampling, bootstrap, shadow models)'),
    workers: z
      .union([z.literal('auto'), z.int().min(1, 'expected "auto" or a positive integer')], {
        error: 'expected "auto" or a positive integer',
      })
      .default('auto')
      .meta({
        description:
          'worker threads: "auto" = one worker for large local models (64 MiB of model files or more; it gets every core as intra-op threads), else min(available CPUs, 4), fewer when their copies of the models (about twice the model files each) would not fit in 60% of the free memory; or a positive integer up to 4 × the available CPUs',
      }),
    threads: z
      .union([z.literal('auto'), z.int().min(1, 'expected "auto" or a positive integer')], {
        error: 'expected "auto" or a positive integer',
      })
      .default('auto')
      .meta({ description: 'onnxruntime intra-op threads of each worker\'s causal-LM sessions: "auto" = the available CPUs shared among the workers; or a positive integer. Results do not depend on it' }),
    device: z
      .enum(['cpu', 'cuda'], { error: 'expected "cpu" or "cuda"' })
      .meta({
        description:
          'where local ONNX models (hf:, onnx:) run: "cpu" (default) or "cuda" (onnxruntime-node\'s CUDA execution provider, used only when it loads: otherwise the audit stops with the reason)',
      })
      .optional(),
    models: strict(
      {
        before: modelRef('the model as released (required)'),
        after: modelRef('the model after deletion').optional(),
        retrained: modelRef('a model retrained from scratch without the forget set').optional(),
        reference: modelRef('the base model before fine-tuning').optional(),
      },
      'models by role',
    ),
    data: dataSchema,
    attacks: attacksSchema.optional(),
    assert: assertSchema
      .meta({ description: 'gates (Lighthouse-CI style): a preset and assertions "<model>.<split>.<attack>.<metric>": [off|warn|error, { max, min, range, contains, bound }]' })
      .optional(),
    shadow: strict(
      {
        layers: z
          .array(z.int().min(1, 'expected a positive layer width').max(16384, 'expected a layer width of at most 16384'), {
            error: 'expected a list of hidden layer widths, e.g. [256, 128]',
          })
          .min(1, 'expected at least one hidden layer')
          .max(16, 'expected at most 16 hidden layers')
          .meta({ description: 'hidden layer widths of the shadow MLP (default [256, 128]; a tfjs: target is cloned instead unless this is set)' })
          .optional(),
        epochs: z
          .int()
          .min(1, 'expected a positive integer')
          .max(100000, 'expected at most 100000 epochs')
          .meta({ description: 'training epochs per shadow (default 30)' })
          .optional(),
        batchSize: z
          .int()
          .min(1, 'expected a positive integer')
          .max(1 << 20, 'expected a batch size of at most 1048576')
          .meta({ description: 'minibatch size (default 64)' })
          .optional(),
        learningRate: z
          .number()
          .positive('expected a positive number')
          .max(10, 'expected a learning rate of at most 10')
          .meta({ description: 'Adam learning rate (default 0.001)' })
          .optional(),
      },
      'shadow (reference) models the harness trains for shadow, lira and rmia: the architecture and training of the target, as the attacker assumes it',
    ).optional(),
    deletion: strict(
      {
        method: nonEmpty('how the deletion was done, e.g. "retrained without the subjects" or "gradient-ascent unlearning, 10 steps"').optional(),
        date: nonEmpty('when it was done (free text, e.g. 2026-11-20)').optional(),
        reference: nonEmpty('the request or ticket it answers, e.g. a DSR number').optional(),
      },
      'the deletion event shown in the report',
    ).optional(),
    report: strict(
      {
        threatModel: z
          .union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a text or a list of texts' })
          .meta({ description: 'the threat model stated in the report, replacing the default derived from the attacks run' })
          .optional(),
      },
      'report options',
    ).optional(),
    output: strict(
      { dir: nonEmpty('report folder, relative to the config file', 'a folder path').default('./privacy-audit-report') },
      'output options',
    ).optional(),
    limits: strict(
      {
        maxDataFileMiB: z
          .number()
          .positive('expected a positive number of MiB')
          .max(CEILING_DATA_FILE_MIB, `expected at most ${CEILING_DATA_FILE_MIB} MiB (data files are read into memory whole)`)
          .meta({ description: `largest data file accepted, in MiB (default ${DEFAULT_MAX_DATA_FILE_MIB}, at most ${CEILING_DATA_FILE_MIB})` })
          .optional(),
        maxRecordKiB: z
          .number()
          .positive('expected a positive number of KiB')
          .max(CEILING_RECORD_KIB, `expected at most ${CEILING_RECORD_KIB} KiB`)
          .meta({ description: `largest record (a JSONL line, a CSV row) accepted, in KiB (default ${DEFAULT_MAX_RECORD_KIB}, at most ${CEILING_RECORD_KIB})` })
          .optional(),
      },
      'input size limits',
    ).optional(),
    claims: strict({ dp: dpClaimSchema.optional() }, 'claims about the before model checked by the audit (src/claims)').optional(),
    cache: strict(
      {
        dir: nonEmpty(
          'cache folder, relative to the config file (default: <output.dir>/.cache); it holds data derived from the training data: keep it private',
          'a folder path',
        ).optional(),
      },
      'the cache of finished model work (resumes a crashed run; --cache-dir and --no-cache override it)',
    ).optional(),
  },
  'privacy-audit config',
);

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigParsed = z.output<typeof configSchema>;
export type ModelRefInput = z.output<typeof modelRefSchema>;

/** JSON Schema (draft-07, the dialect editors support best) for the config file. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'privacy-audit config',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

// A synthetic dataset released instead of a model (target: { synthetic }) -------------------------

export const syntheticTargetSchema = strict(
  {
    synthetic: dataPath('the released synthetic data (relative to the config file)'),
    kind: z
      .enum(['tabular', 'text'], { error: 'expected "tabular" or "text"' })
      .meta({ description: 'tabular: rows of numeric and categorical columns; text: one text column per record (default tabular)' })
      .optional(),
    columns: z
      .record(z.string().min(1), z.enum(['numeric', 'categorical'], { error: 'expected "numeric" or "categorical"' }), { error: 'expected a map of column name -> numeric | categorical' })
      .meta({ description: 'declared column types (tabular); undeclared columns are numeric when every value of every table is a number, else categorical' })
      .optional(),
    text: nonEmpty('name of the text column (text targets; default "text")').optional(),
  },
  'the released synthetic data: a table (CSV with a header, or JSONL objects) or a text corpus',
);

export const syntheticDataSchema = strict(
  {
    members: dataPath("the generator's training records"),
    holdout: dataPath('control records of the same distribution that the generator never saw'),
    population: dataPath("auxiliary records the attacker holds (DOMIAS's reference density)").optional(),
    fields: strict(
      {
        id: nonEmpty('name of the record id column (default "id"; rows without one are numbered)').optional(),
        subject: nonEmpty('name of the subject (person) column (default "subject" when present): people are then the unit of evidence').optional(),
      },
      'id and subject column names; they are not audited attributes',
    ).optional(),
  },
  'data files (paths relative to the config file)',
);

export const syntheticConfigSchema = strict(
  {
    ...commonFields('seed for every random choice (targets, predicates, samples)'),
    target: syntheticTargetSchema,
    data: syntheticDataSchema,
    attacks: attacksSchema.optional(),
    assert: syntheticAssertSchema
      .meta({ description: 'gates: a preset (privacy-audit:synthetic by default) and assertions "synthetic.<attack>.<metric>": [off|warn|error, { max, min, range }]' })
      .optional(),
    report: strict(
      { threatModel: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'expected a text or a list of texts' }).optional() },
      'report options',
    ).optional(),
    output: strict({ dir: nonEmpty('report folder, relative to the config file', 'a folder path').default('./privacy-audit-report') }, 'output options').optional(),
    limits: strict(
      {
        maxDataFileMiB: z.number().positive('expected a positive number of MiB').max(CEILING_DATA_FILE_MIB, `expected at most ${CEILING_DATA_FILE_MIB} MiB`).optional(),
        maxRecordKiB: z.number().positive('expected a positive number of KiB').max(CEILING_RECORD_KIB, `expected at most ${CEILING_RECORD_KIB} KiB`).optional(),
      },
      'input size limits',
    ).optional(),
  },
  'privacy-audit config for a synthetic dataset',
);
export type SyntheticConfigParsed = z.output<typeof syntheticConfigSchema>;

/** JSON Schema of the synthetic-data config (schema/synthetic-config.schema.json). */
export function syntheticConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(syntheticConfigSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  return { $schema: schema.$schema, title: 'privacy-audit config (synthetic data)', ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')) };
}
