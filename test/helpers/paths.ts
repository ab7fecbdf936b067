import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURE = path.join(REPO, 'fixtures/support-desk');
export const MODELS = path.join(FIXTURE, 'models');
export const TABULAR = path.join(REPO, 'fixtures/tabular');
export const BIN = path.join(REPO, 'bin/privacy-audit.js');
