// Lint: Vue's recommended rules and typescript-eslint's, for .vue and .ts.
import { defineConfigWithVueTs, vueTsConfigs } from '@vue/eslint-config-typescript'
import pluginPlaywright from 'eslint-plugin-playwright'
import pluginVue from 'eslint-plugin-vue'

export default defineConfigWithVueTs(
  {
    name: 'app/files',
    files: ['**/*.{ts,mts,vue}'],
  },
  {
    name: 'app/ignores',
    // src/client is generated: it is checked by `npm run check-client`, not edited.
    ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'src/client/**'],
  },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommended,
  {
    name: 'app/rules',
    rules: {
      // Formatting is left to the editor: these fight long accessible labels.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/require-default-prop': 'off',
      'vue/block-lang': ['error', { script: { lang: 'ts' } }],
      'vue/component-api-style': ['error', ['script-setup']],
      'vue/no-unused-refs': 'error',
      'vue/no-useless-v-bind': 'error',
      'vue/require-explicit-emits': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The browser tests: an un-awaited expect or action, a fixed wait or a
    // focused test is caught here.
    name: 'app/e2e',
    files: ['e2e/**/*.ts'],
    ...pluginPlaywright.configs['flat/recommended'],
    rules: {
      ...pluginPlaywright.configs['flat/recommended'].rules,
      // A test skipped for a reason it names (test.skip(condition, why)) is fine.
      'playwright/no-skipped-test': ['error', { allowConditional: true }],
    },
  },
  {
    name: 'app/scripts',
    files: ['scripts/**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: { 'no-console': 'off' },
  },
)
