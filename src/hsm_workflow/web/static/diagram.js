// Draws each [data-bpmn-diagram] with bpmn-js (NavigatedViewer: drag to pan, Ctrl+wheel to
// zoom, plus zoom buttons) and marks the steps done (hsm-done) and waiting (hsm-current).
// Everything else on the site works without it.
(function () {
  "use strict";

  function list(container, name) {
    try { return JSON.parse(container.dataset[name] || "[]"); } catch (e) { return []; }
  }

  var READABLE = 0.8;

  function addControls(container, canvas) {
    var bar = document.createElement("div");
    bar.className = "diagram-controls";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Diagram view");
    [["Zoom in", function () { canvas.zoom(canvas.zoom() * 1.25); }],
     ["Zoom out", function () { canvas.zoom(canvas.zoom() / 1.25); }],
     ["Whole diagram", function () { canvas.zoom("fit-viewport"); }]].forEach(function (control) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "small";
      button.textContent = control[0];
      button.addEventListener("click", control[1]);
      bar.appendChild(button);
    });
    container.parentElement.insertBefore(bar, container);
  }

  async function draw(container) {
    var status = container.parentElement.querySelector("[data-diagram-status]");
    function say(text) { if (status) { status.textContent = text; } }
    container.dataset.state = "loading";
    try {
      var response = await fetch(container.dataset.url, { credentials: "same-origin" });
      if (!response.ok) { throw new Error("the diagram could not be loaded (" + response.status + ")"); }
      var viewer = new window.BpmnJS({ container: container });
      await viewer.importXML(await response.text());
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      list(container, "done").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "hsm-done"); } });
      var current = list(container, "current").map(function (id) { return registry.get(id); }).filter(Boolean);
      current.forEach(function (element) { canvas.addMarker(element, "hsm-current"); });
      if (current.length && canvas.zoom() < READABLE) {  // a big diagram: show where the case is, readable
        canvas.zoom(READABLE);
        var box = canvas.viewbox(), element = current[0];
        canvas.viewbox({ x: element.x + element.width / 2 - box.width / 2,
                         y: element.y + element.height / 2 - box.height / 2, width: box.width, height: box.height });
      }
      addControls(container, canvas);
      container.dataset.state = "ready";
    } catch (error) {
      container.dataset.state = "error";
      say("The diagram cannot be shown: " + (error && error.message ? error.message : error) +
          ". The open tasks and the timeline above say where the case is.");
    }
  }

  document.querySelectorAll("[data-bpmn-diagram]").forEach(draw);
})();
