// Checks esbuild does not make: a name used but never defined (an import lost in an edit
// bundles fine and fails only in the browser), and code that can never run. Run by
// scripts/test beside ruff and mypy.
import globals from "globals";

export default [
  {
    files: ["src/**/*.{js,jsx}"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    rules: {
      "no-undef": "error",
      "no-unreachable": "error",
      "no-dupe-keys": "error",
      "no-const-assign": "error",
      "no-import-assign": "error",
    },
  },
];
