#!/usr/bin/env node
// Usage: node tools/modeller-check/check.mjs FILE.bpmn...
//
// Prints one JSON object {FILE: {lint: [...], import: [...], di: [...]}} on
// stdout and exits 1 if any list of any file is non-empty, 0 if all are
// empty, 2 on a usage or internal error (e.g. chromium missing). A one-line
// summary with the time taken goes to stderr.
//
//   lint    bpmnlint, config {"extends": "bpmnlint:recommended"}; warnings count
//   import  importXML warnings/errors of a bpmn-js Viewer in headless chromium
//   di      elements without BPMNShape/BPMNEdge, shapes without Bounds, edges
//           with fewer than 2 waypoints
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';


const USAGE = 'usage: node tools/modeller-check/check.mjs FILE.bpmn...';

async function main(argv) {
  const files = argv.filter((a) => !a.startsWith('--'));

  if (argv.includes('--help') || argv.includes('-h') || !files.length) {
    console.error(USAGE);
    return 2;
  }

  const started = performance.now();

  // imported here so that a missing node_modules exits 2, not 1
  const { BpmnModdle } = await import('bpmn-moddle');
  const { createLinter, lint } = await import('./lib/lint.mjs');
  const { checkDi } = await import('./lib/di.mjs');
  const { BpmnJsImporter } = await import('./lib/browser.mjs');

  // launch the browser while node does the lint and DI work
  const importer = new BpmnJsImporter();
  const browserReady = importer.start();
  browserReady.catch(() => {});

  try {
    return await run(files, started, importer, browserReady, { BpmnModdle, createLinter, lint, checkDi });
  } finally {
    // also on an internal error, or chromium would keep node alive
    await importer.close();
  }
}

async function run(files, started, importer, browserReady, { BpmnModdle, createLinter, lint, checkDi }) {
  const moddle = new BpmnModdle();
  const results = {};
  const sources = {};

  for (const file of files) {
    const result = results[file] = { lint: [], import: [], di: [] };

    let xml;
    try {
      xml = sources[file] = await readFile(file, 'utf8');
    } catch (err) {
      const problem = { rule: 'read', id: null, category: 'error', message: `cannot read ${file}: ${err.message}` };
      result.lint.push(problem);
      result.di.push({ id: null, type: null, message: problem.message });
      continue;
    }

    let definitions;
    try {
      ({ rootElement: definitions } = await moddle.fromXML(xml, 'bpmn:Definitions'));
    } catch (err) {
      const message = `not a BPMN 2.0 document: ${err.message.split('\n')[0]}`;
      result.lint.push({ rule: 'parse', id: null, category: 'error', message });
      result.di.push({ id: null, type: null, message });
      continue;
    }

    // a fresh Linter per file: bpmnlint caches rule instances, and some rules
    // (no-duplicate-sequence-flows) keep state between lint() calls
    result.lint = await lint(createLinter(), definitions);
    result.di = checkDi(definitions);
  }

  await browserReady;
  for (const file of files) {
    if (sources[file] !== undefined) {
      results[file].import = await importer.importXML(sources[file]);
    } else {
      results[file].import.push({ kind: 'error', message: 'file could not be read', element: null });
    }
  }

  process.stdout.write(JSON.stringify(results, null, 2) + '\n');

  const failing = files.filter((f) => Object.values(results[f]).some((list) => list.length));
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.error(`modeller-check: ${files.length} file(s) in ${seconds}s, ${failing.length} with problems${failing.length ? ': ' + failing.join(' ') : ''}`);

  return failing.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`modeller-check: ${err && err.stack || err}`);
    process.exitCode = 2;
  }
);
