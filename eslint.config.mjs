// Lint rules that hold real bugs out: floating promises, cycles, and impure workflow code.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.temporal/**', '.temporal-venv/**', '.artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['eslint.config.mjs'] }, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      // Workflows and activities are async by contract even when a body needs no await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Workflow code is replayed: it must stay deterministic and keep zod and I/O out of the bundle.
    files: ['src/workflows/**/*.ts', 'test/workflows/**/*.ts', 'bench/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins cannot run in workflows.' })),
          patterns: [
            { group: ['zod', 'zod/*'], message: 'Validate in activities; workflows use z.infer types only.' },
            {
              group: ['**/activities', '**/activities/*', '**/ticksupply/*', '**/worker', '**/emulator/*', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'],
              allowTypeImports: true,
              message: 'Workflows may import only types from non-workflow modules.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use workflow time (new Date(workflowInfo()...)) or sleep().' },
        { object: 'Math', property: 'random', message: 'Randomness belongs in activities.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflows read no environment.' },
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'fetch', message: 'I/O belongs in activities.' },
      ],
    },
  },
);
