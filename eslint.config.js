import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers (see README "Where things live"): api/ and domain/ at the bottom; workflows/ and
 * activities/ on them; the processes worker/, policy-watcher/ and cli/ on top. A process never
 * imports another process's internals; activities/ is reached only through its index.ts face;
 * workflows/ sees activities only as the types of its proxy.
 */
const folders = ['domain', 'workflows', 'activities', 'worker', 'policy-watcher', 'cli'];
const layer = (name) => [`**/${name}/**`, `${name}/**`];
const barred = (names, why) => ({ group: names.flatMap(layer), message: why });
const activitiesInternals = {
  group: [...layer('activities'), '!**/activities/index.ts'],
  message: 'reach activities/ only through activities/index.ts',
};
const restrictedFor = (patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules/', '.devstack/', 'devstack/modules/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['domain/**/*.ts', 'api/**/*.ts'],
    rules: restrictedFor([
      barred(
        folders.filter((f) => f !== 'domain'),
        'the domain layer depends on nothing above it',
      ),
    ]),
  },
  {
    files: ['activities/**/*.ts'],
    rules: restrictedFor([
      barred(['workflows', 'worker', 'policy-watcher', 'cli'], 'activities depend on api/ and domain/ only'),
    ]),
  },
  {
    files: ['policy-watcher/**/*.ts'],
    rules: restrictedFor([
      barred(['workflows', 'activities', 'worker', 'cli'], 'the watcher depends on api/ and domain/ only'),
    ]),
  },
  {
    files: ['worker/**/*.ts'],
    rules: restrictedFor([
      barred(
        ['workflows', 'policy-watcher', 'cli'],
        'the worker depends on api/, domain/ and the activities face; it loads workflows by path',
      ),
      activitiesInternals,
    ]),
  },
  {
    files: ['cli/**/*.ts'],
    rules: restrictedFor([
      barred(
        ['workflows', 'policy-watcher', 'worker'],
        'the CLI depends on api/ and domain/ (and the activities face for restore)',
      ),
      activitiesInternals,
    ]),
  },
  {
    // Each process reads its environment once, through its configuration schema (domain/config/),
    // and passes the typed value down; the CLI's entry point hands process.env to it.
    files: [
      'api/**/*.ts',
      'domain/**/*.ts',
      'activities/**/*.ts',
      'worker/**/*.ts',
      'policy-watcher/**/*.ts',
      'cli/**/*.ts',
    ],
    ignores: ['domain/config/**', 'cli/main.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read the configuration from domain/config/' },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node APIs, clocks or randomness,
    // and nothing from the domain layer that does I/O.
    files: ['workflows/**/*.ts'],
    rules: {
      ...restrictedFor([
        {
          group: ['node:*', '@kubernetes/*', '@temporalio/activity', '@temporalio/client'],
          message: 'not in the workflow sandbox',
        },
        barred(['worker', 'policy-watcher', 'cli'], 'workflows depend on api/ and domain/ only'),
        {
          group: [
            '**/domain/kube/**',
            '**/domain/config/**',
            '**/domain/conditions/**',
            '**/domain/metrics-server.ts',
          ],
          message: 'I/O has no place in a workflow',
        },
        {
          ...activitiesInternals,
          message: 'workflows see activities only as the types of their proxy, from activities/index.ts',
        },
        {
          group: layer('activities'),
          allowTypeImports: true,
          message: 'workflows import activities as types only',
        },
      ]),
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'process'],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random' },
        { object: 'Date', property: 'now' },
      ],
    },
  },
);
