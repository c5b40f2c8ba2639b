#!/usr/bin/env node
// Usage: node tools/modeller-check/layout.mjs IN.bpmn OUT.bpmn
//
// Generates diagram interchange (BPMNDiagram, shapes, edges) for a diagram
// written without it, using bpmn-auto-layout. Any DI already in IN is
// discarded and regenerated. A convenience for authors: open OUT in Camunda
// Modeler to tidy it up, then run check.mjs on it.
//
// OUT is always written. Afterwards the DI check of check.mjs runs on OUT and
// every element still without DI is listed on stderr (lanes, pools, text
// annotations, associations, message flows, data references are not laid
// out: see README.md); the exit status is then 1, else 0 (2 on bad usage or
// unreadable input).
import { readFile, writeFile } from 'node:fs/promises';

async function main(argv) {
  const [ input, output ] = argv.filter((a) => !a.startsWith('--'));

  if (!input || !output || argv.includes('--help') || argv.includes('-h')) {
    console.error('usage: node tools/modeller-check/layout.mjs IN.bpmn OUT.bpmn');
    return 2;
  }

  const { layoutProcess } = await import('bpmn-auto-layout');
  const { BpmnModdle } = await import('bpmn-moddle');
  const { checkDi } = await import('./lib/di.mjs');

  const moddle = new BpmnModdle();
  const xml = await readFile(input, 'utf8');

  // look at the input first: what bpmn-auto-layout will drop or ignore
  const { rootElement: before } = await moddle.fromXML(xml, 'bpmn:Definitions');
  const processes = (before.rootElements || []).filter((e) => e.$instanceOf('bpmn:Process'));
  const collaborations = (before.rootElements || []).filter((e) => e.$instanceOf('bpmn:Collaboration'));
  const oldDi = (before.diagrams || []).reduce((n, d) => n + ((d.plane && d.plane.planeElement) || []).length, 0);

  if (oldDi) {
    console.error(`${input}: note: its ${oldDi} existing shape(s)/edge(s) are discarded and regenerated`);
  }
  if (processes.length > 1) {
    console.error(`${input}: note: only the first process (${processes[0].id}) is laid out; ${processes.slice(1).map((p) => p.id).join(', ')} get no DI`);
  }
  if (collaborations.length) {
    console.error(`${input}: note: the collaboration (pools, message flows) is not laid out; the diagram shows the process ${processes[0] && processes[0].id} without its pool`);
  }

  const { rootElement: after } = await moddle.fromXML(await layoutProcess(xml), 'bpmn:Definitions');

  // bpmn-auto-layout 1.3.0 also draws a shape for each bpmn:dataObject (the
  // variable, which has no notation; only its dataObjectReference is drawn)
  for (const diagram of after.diagrams || []) {
    if (diagram.plane && diagram.plane.planeElement) {
      diagram.plane.planeElement = diagram.plane.planeElement.filter(
        (di) => !(di.bpmnElement && di.bpmnElement.$instanceOf('bpmn:DataObject'))
      );
    }
  }

  const { xml: laidOut } = await moddle.toXML(after, { format: true });
  await writeFile(output, laidOut);
  const missing = checkDi(after);

  for (const problem of missing) {
    console.error(`${output}: not laid out: ${problem.id} (${problem.type}): ${problem.message}`);
  }
  console.error(`wrote ${output}${missing.length ? `: ${missing.length} element(s) still need drawing by hand (Camunda Modeler)` : ': diagram interchange complete'}`);

  return missing.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`layout: ${err && err.stack || err}`);
    process.exitCode = 2;
  }
);
