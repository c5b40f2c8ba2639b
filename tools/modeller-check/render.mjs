#!/usr/bin/env node
// Usage: node tools/modeller-check/render.mjs IN.bpmn OUT.png
//
// Draws IN.bpmn with the same headless bpmn-js Viewer check.mjs uses and saves
// a PNG, so an author (or a reviewer without a desktop) can look at it.
// Prints import problems, if any, to stderr and exits 1 then.
import { readFile } from 'node:fs/promises';

async function main([ input, output ]) {
  if (!input || !output) {
    console.error('usage: node tools/modeller-check/render.mjs IN.bpmn OUT.png');
    return 2;
  }
  const { BpmnJsImporter } = await import('./lib/browser.mjs');
  const importer = new BpmnJsImporter();
  try {
    await importer.start();
    const problems = await importer.screenshot(await readFile(input, 'utf8'), output);
    for (const p of problems) {
      console.error(`${input}: import ${p.kind}: ${p.message}${p.element ? ` (${p.element})` : ''}`);
    }
    console.error(`wrote ${output}`);
    return problems.length ? 1 : 0;
  } finally {
    await importer.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`render: ${err && err.stack || err}`); process.exitCode = 2; }
);
