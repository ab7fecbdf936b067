// Piscina loads plain JavaScript; this shim compiles the TypeScript worker on the fly with tsx.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./worker.ts', import.meta.url);
export default mod.default;
