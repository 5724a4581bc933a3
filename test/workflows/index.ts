// Test bundle entry: the product's workflows plus test-only workflows.
export * from '../../src/workflows';
export * from './trivial';
export * from './parent';
