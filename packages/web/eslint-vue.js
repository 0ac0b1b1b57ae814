import vue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';

/**
 * Lint config for the panel's single-file components, spread into the root eslint.config.js.
 * It lives here because eslint-plugin-vue is a dependency of this package.
 */
export default [
  ...vue.configs['flat/recommended'],
  {
    name: 'pgbs/vue',
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
    rules: {
      // Prettier owns the layout.
      ...vue.configs['no-layout-rules'].rules,
      // TypeScript checks names (vue-tsc); the core rule does not know browser or Vue globals.
      'no-undef': 'off',
      // The shared pieces in src/ui are named as the design names them.
      'vue/multi-word-component-names': ['error', { ignores: ['Button', 'Card', 'Icon', 'Notice'] }],
      // An optional TypeScript prop is undefined when absent, on purpose.
      'vue/require-default-prop': 'off',
    },
  },
];
