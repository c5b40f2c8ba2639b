// bpmnlint, run programmatically with the recommended rule set.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');

export const LINT_CONFIG = { extends: 'bpmnlint:recommended' };

/**
 * Use one per file: rule instances are cached per Linter and some keep state
 * across lint() calls. Its rules resolve from this tool's node_modules, whatever the
 * current directory (NodeResolver defaults to resolving from cwd).
 */
export function createLinter() {
  return new Linter({
    config: LINT_CONFIG,
    resolver: new NodeResolver({ require })
  });
}

/**
 * @return {Promise<{rule: string, id: string|null, category: string, message: string}[]>}
 *   every report, warnings included: the requirement is that diagrams pass the
 *   recommended rules without any report.
 */
export async function lint(linter, definitions) {
  const results = await linter.lint(definitions);
  const problems = [];

  for (const [ rule, reports ] of Object.entries(results)) {
    for (const r of reports) {
      problems.push({
        rule,
        id: r.id ?? null,
        category: r.category,
        message: r.message + (r.path ? ` (at ${r.path.join('.')})` : '')
      });
    }
  }

  return problems;
}
