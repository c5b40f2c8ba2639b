// Diagram interchange completeness check, on a bpmn-moddle definitions tree.
//
// Every element a modeller draws must have a BPMNShape (nodes) or BPMNEdge
// (connections) referencing it; shapes need Bounds, edges >= 2 waypoints.

/** Connections: drawn as BPMNEdge. Everything else listed is drawn as BPMNShape. */
const EDGE_TYPES = [
  'bpmn:SequenceFlow',
  'bpmn:MessageFlow',
  'bpmn:Association',
  'bpmn:DataAssociation',
  'bpmn:ConversationLink'
];

const isEdgeType = (el) => EDGE_TYPES.some((t) => el.$instanceOf(t));

const DRAWN_DATA = [ 'bpmn:DataObjectReference', 'bpmn:DataStoreReference' ];

const isDrawnData = (el) => !!el && DRAWN_DATA.some((t) => el.$instanceOf(t));

function label(el) {
  return el.id || `<${el.$type} without id${el.name ? ` "${el.name}"` : ''}>`;
}

/**
 * Collect every element of the semantic model that must be drawn.
 *
 * @param {object} definitions bpmn:Definitions
 * @return {object[]}
 */
export function elementsNeedingDi(definitions) {
  const out = [];
  const seen = new Set();
  const add = (el) => {
    if (el && !seen.has(el)) {
      seen.add(el);
      out.push(el);
    }
  };

  // data associations hang off activities and events, not off flowElements
  const addDataAssociations = (el) => {
    for (const assoc of [ ...(el.dataInputAssociations || []), ...(el.dataOutputAssociations || []) ]) {
      const ends = [ ...(assoc.sourceRef || []), assoc.targetRef ];

      // associations to ioSpecification inputs/outputs are not drawn; to data object/store refs they are
      if (ends.some(isDrawnData)) {
        add(assoc);
      }
    }
  };

  const walkLanes = (laneSets) => {
    for (const laneSet of laneSets || []) {
      for (const lane of laneSet.lanes || []) {
        add(lane);
        if (lane.childLaneSet) {
          walkLanes([ lane.childLaneSet ]);
        }
      }
    }
  };

  // Process, SubProcess, Transaction, AdHocSubProcess: all FlowElementsContainer
  const walkContainer = (container) => {
    walkLanes(container.laneSets);

    for (const el of container.flowElements || []) {

      // a bpmn:dataObject is the variable; only its dataObjectReference is drawn
      if (el.$instanceOf('bpmn:DataObject')) {
        continue;
      }

      add(el);
      addDataAssociations(el);

      if (el.$instanceOf('bpmn:FlowElementsContainer')) {
        walkContainer(el);
      }
    }

    for (const artifact of container.artifacts || []) {
      add(artifact);
    }
  };

  for (const root of definitions.rootElements || []) {
    if (root.$instanceOf('bpmn:Process')) {
      walkContainer(root);
    }

    if (root.$instanceOf('bpmn:Collaboration')) {
      for (const participant of root.participants || []) {
        add(participant);
      }
      for (const messageFlow of root.messageFlows || []) {
        add(messageFlow);
      }
      for (const artifact of root.artifacts || []) {
        add(artifact);
      }
      for (const node of root.conversations || []) {
        add(node);
      }
      for (const link of root.conversationLinks || []) {
        add(link);
      }
    }
  }

  return out;
}

/**
 * @param {object} definitions bpmn:Definitions (from bpmn-moddle fromXML)
 * @return {{id: string, type: string, message: string}[]}
 */
export function checkDi(definitions) {
  const problems = [];
  const report = (el, message) => problems.push({
    id: el ? label(el) : null,
    type: el ? el.$type : null,
    message
  });

  const diagrams = definitions.diagrams || [];

  if (!diagrams.length) {
    report(definitions, 'no bpmndi:BPMNDiagram: the file has no diagram interchange at all');
  }

  // bpmnElement -> [di]
  const diByElement = new Map();

  for (const diagram of diagrams) {
    const plane = diagram.plane;

    if (!plane) {
      report(diagram, 'BPMNDiagram has no BPMNPlane');
      continue;
    }

    if (!plane.bpmnElement) {
      report(plane, 'BPMNPlane has no (resolvable) bpmnElement');
    }

    for (const di of plane.planeElement || []) {
      const el = di.bpmnElement;

      if (!el) {
        report(di, `${di.$type} has no (resolvable) bpmnElement`);
        continue;
      }

      if (!diByElement.has(el)) {
        diByElement.set(el, []);
      }
      diByElement.get(el).push(di);

      if (di.$instanceOf('bpmndi:BPMNShape')) {
        const b = di.bounds;
        if (!b || ![ b.x, b.y, b.width, b.height ].every(Number.isFinite)) {
          report(el, `BPMNShape ${label(di)} has no complete dc:Bounds (x, y, width, height)`);
        } else if (b.width <= 0 || b.height <= 0) {
          report(el, `BPMNShape ${label(di)} has empty bounds (${b.width}x${b.height})`);
        }
      } else if (di.$instanceOf('bpmndi:BPMNEdge')) {
        const waypoints = di.waypoint || [];
        if (waypoints.length < 2) {
          report(el, `BPMNEdge ${label(di)} has ${waypoints.length} waypoint(s), needs at least 2`);
        } else if (!waypoints.every((w) => Number.isFinite(w.x) && Number.isFinite(w.y))) {
          report(el, `BPMNEdge ${label(di)} has a waypoint without numeric x/y`);
        }
      }
    }
  }

  for (const el of elementsNeedingDi(definitions)) {
    const dis = diByElement.get(el);
    const wantEdge = isEdgeType(el);
    const wanted = wantEdge ? 'bpmndi:BPMNEdge' : 'bpmndi:BPMNShape';

    if (!dis || !dis.length) {
      report(el, `no ${wanted} references this ${el.$type.replace('bpmn:', '')}`);
      continue;
    }

    if (!dis.some((di) => di.$instanceOf(wanted))) {
      report(el, `drawn as ${dis[0].$type}, expected ${wanted}`);
    }

    if (dis.length > 1) {
      report(el, `${dis.length} DI elements reference it (${dis.map(label).join(', ')}), expected one`);
    }
  }

  // bpmn-js opens the first diagram: a process neither shown there nor in a
  // participant drawn there is invisible in the modeller.
  const main = diagrams[0]?.plane?.bpmnElement;
  if (main) {
    const visible = new Set([ main ]);
    if (main.$instanceOf('bpmn:Collaboration')) {
      for (const participant of main.participants || []) {
        if (participant.processRef) {
          visible.add(participant.processRef);
        }
      }
    }
    for (const root of definitions.rootElements || []) {
      if (root.$instanceOf('bpmn:Process') && !visible.has(root) && (root.flowElements || []).length) {
        report(root, 'process is not shown in the first (opened) diagram: neither its plane nor a participant of it');
      }
    }
  }

  return problems;
}
