/** Scoring Vigil against a simulation's ground truth (`vigil eval`). */
export {
  type EvalOptions,
  type EvalReport,
  type EvalStage,
  evaluate,
  evaluateDetection,
  firstAttackerFinding,
  matches,
  type ScenarioScore,
} from './eval.ts';
export { readTruth, type Truth, type TruthScenario } from './truth.ts';
