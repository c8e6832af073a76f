/** The simulator's door: generate a month of shop traffic with known breaches hidden in it. */
export { type Category, catalogYaml, OPERATIONS } from './catalog.ts';
export { SCENARIOS } from './scenarios/index.ts';
export {
  DEFAULTS,
  type ScenarioChoice,
  ScenarioError,
  type SimulationOptions,
  type SimulationResult,
  simulate,
  truthDocument,
  writeSimulation,
} from './simulate.ts';
export { type EventSink, JsonlFileSink, MemorySink } from './sink.ts';
export {
  type IntoWorkspaceOptions,
  type IntoWorkspaceResult,
  MAX_BASE_CUSTOMERS,
  simulateIntoWorkspace,
} from './sinks/into-workspace.ts';
export type { Entity, EntityType } from './truth.ts';
