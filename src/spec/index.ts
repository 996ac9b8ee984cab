// The `.omoi_os/` spec format: parse (pure), load (fs), validate (all rules), graph.
export { buildSpecGraph } from './graph.js';
export { loadSpecFiles } from './load.js';
export { parseSpecFile } from './parse.js';
export type * from './types.js';
export { type ValidateOptions, validateSpecDir, validateSpecFiles } from './validate.js';
