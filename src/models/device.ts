/**
 * Where local ONNX models run: `cpu` (the default and the tested path) or `cuda`, onnxruntime-node's
 * CUDA execution provider. CUDA is chosen only when the provider loads here: a one-node model is
 * opened with it before anything else, and when that fails the audit stops with the reason (exit 2),
 * never falling back to the CPU behind the user's back.
 */
import * as ort from 'onnxruntime-node';

export type Device = 'cpu' | 'cuda';

/** A one-node ONNX graph (y = Identity(x), opset 13), made with Debian's python3-onnx. */
const PROBE_MODEL = Buffer.from('CAg6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN', 'base64');

/** onnxruntime's execution providers for `device`. */
export const executionProviders = (device: Device | undefined): string[] => (device === 'cuda' ? ['cuda'] : ['cpu']);

/** Undefined when `device` can run a model here; otherwise why not, in one line. */
export async function deviceProblem(device: Device): Promise<string | undefined> {
  if (device === 'cpu') return undefined;
  // The provider's own loader logs its failure at error level before throwing: keep the terminal to our message.
  const level = ort.env.logLevel;
  ort.env.logLevel = 'fatal';
  try {
    const session = await ort.InferenceSession.create(PROBE_MODEL, { executionProviders: executionProviders(device), logSeverityLevel: 4 });
    await session.release();
    return undefined;
  } catch (e) {
    const first = (e as Error).message.split('\n')[0]!.replace(/\u001b\[[0-9;]*m/g, '');
    return first.length > 300 ? `${first.slice(0, 300)}…` : first;
  } finally {
    ort.env.logLevel = level;
  }
}
