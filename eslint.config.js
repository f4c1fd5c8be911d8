// Layering is enforced here (STYLE.md 1): the Electron-free core and the common contract never
// import `electron`; the renderer never imports Node built-ins or core modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'renderer/**/*.svelte', '**/*.svelte.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['electron/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'electron/common is pure TypeScript shared by every process.' }, ...nodeBuiltins.map((name) => ({ name, message: 'electron/common must run in the renderer too: no Node built-ins.' }))],
          patterns: [{ group: ['**/core/**', '**/main/**', '**/preload/**'], message: 'electron/common imports nothing but itself and zod.' }],
        },
      ],
    },
  },
  {
    files: ['electron/core/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The core runs in plain Node (tests, CLI, browser mode): keep electron in electron/main and electron/preload.' }],
          patterns: [{ group: ['**/electron/main/**', '**/main/**', '**/preload/**'], message: 'The core must not depend on the Electron shell.' }],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer is sandboxed: use the API client.' }, ...nodeBuiltins.map((name) => ({ name, message: 'The renderer runs in a browser sandbox: no Node built-ins.' }))],
          patterns: [{ group: ['**/electron/core/**', '**/electron/main/**', '**/electron/preload/**'], message: 'The renderer may import electron/common only.' }],
        },
      ],
    },
  },
);
