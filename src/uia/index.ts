export type { StageOutcome, UiaSuccess } from './engine.js';
export { StageFailed, StageNotAllowed, UiaEngine } from './engine.js';
export type { AuthDict, Stage, StageContext, UiaOperation } from './types.js';
