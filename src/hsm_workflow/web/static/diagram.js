// Draws each [data-bpmn-diagram] with bpmn-js (NavigatedViewer: pan and zoom) and marks
// the steps done (hsm-done) and waiting (hsm-current). Everything else works without it.
(function () {
  "use strict";

  function list(container, name) {
    try { return JSON.parse(container.dataset[name] || "[]"); } catch (e) { return []; }
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
      list(container, "current").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "hsm-current"); } });
      container.dataset.state = "ready";
    } catch (error) {
      container.dataset.state = "error";
      say("The diagram cannot be shown: " + (error && error.message ? error.message : error) +
          ". The open tasks and the timeline above say where the case is.");
    }
  }

  document.querySelectorAll("[data-bpmn-diagram]").forEach(draw);
})();
