/**
 * Serve a fixture model over vLLM's OpenAI-compatible protocol for manual use:
 *   npx tsx scripts/serve-fixture.ts --model fixtures/support-desk/models/before --port 8000 [--mode vllm|chat-only|no-prompt-logprobs]
 *     [--served-name NAME] [--host 127.0.0.1] [--max-logprobs 20]
 * Prints the baseURL (for `new OpenAI({ baseURL, apiKey: 'EMPTY' })`) and serves until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startServedModel, type ServeMode } from '../src/demo/vllm-server.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures/support-desk/models/before' },
    port: { type: 'string', default: '8000' },
    host: { type: 'string', default: '127.0.0.1' },
    mode: { type: 'string', default: 'vllm' },
    'served-name': { type: 'string' },
    'max-logprobs': { type: 'string', default: '20' },
  },
});
const modes: ServeMode[] = ['vllm', 'chat-only', 'no-prompt-logprobs'];
if (!modes.includes(values.mode as ServeMode)) {
  console.error(`--mode must be one of ${modes.join(', ')}`);
  process.exit(2);
}
const served = await startServedModel({
  modelDir: values.model!,
  port: Number(values.port),
  host: values.host!,
  mode: values.mode as ServeMode,
  maxLogprobs: Number(values['max-logprobs']),
  ...(values['served-name'] ? { servedName: values['served-name'] } : {}),
});
console.log(served.baseURL);
console.error(`serving model "${served.servedName}" (${values.mode}, max_model_len ${served.maxModelLen}); Ctrl-C to stop`);
const stop = () => void served.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
