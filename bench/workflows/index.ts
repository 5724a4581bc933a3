// Bench bundle entry: the product's workflows plus the baselines they are measured against.
export * from '../../src/workflows';
export * from './baselines';
