// The `.omoi_os/` spec format: parse (pure), load (fs), validate (all rules), graph.

export * from './format.js';
export { buildSpecGraph } from './graph.js';
export { loadSpecFiles } from './load.js';
export { parseSpecFile } from './parse.js';
export * from './schema.js';
export {
  describeSpecTree,
  renderSpecTree,
  type SpecTreeView,
  type TaskView,
  type TicketView,
} from './show.js';
export type * from './types.js';
export { type ValidateOptions, validateSpecDir, validateSpecFiles } from './validate.js';
