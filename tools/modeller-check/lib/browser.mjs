// Headless import into a real bpmn-js Viewer, in Debian's chromium driven by
// playwright-core. No network: the viewer bundle is injected from
// node_modules and every request the page might make is aborted.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.MODELLER_CHECK_CHROMIUM || '/usr/bin/chromium';

const VIEWER_BUNDLE = require.resolve('bpmn-js/dist/bpmn-viewer.production.min.js');
const VIEWER_CSS = [ 'bpmn-js/dist/assets/diagram-js.css', 'bpmn-js/dist/assets/bpmn-js.css' ].map((p) => require.resolve(p));

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>modeller-check</title></head>
<body style="margin:0"><div id="canvas" style="width:1600px;height:1000px"></div></body></html>`;

// Runs inside the page.
function installImporter() {
  const describe = (w) => ({
    message: String(w && w.message || w),
    element: (w && w.element && (w.element.id || w.element.$type)) || null
  });

  window.__importDiagram = async (xml) => {
    const container = document.getElementById('canvas');
    const viewer = new window.BpmnJS({ container });
    try {
      const { warnings } = await viewer.importXML(xml);
      const registry = viewer.get('elementRegistry');
      return { warnings: (warnings || []).map(describe), error: null, drawn: registry.getAll().length };
    } catch (err) {
      return { warnings: (err.warnings || []).map(describe), error: String(err && err.message || err), drawn: 0 };
    } finally {
      viewer.destroy();
      container.innerHTML = '';
    }
  };
}

export class BpmnJsImporter {

  start() {
    this.starting = this.starting || this._start();
    return this.starting;
  }

  async _start() {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or make node-deps)`);
    }

    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true });
    const context = await this.browser.newContext({ serviceWorkers: 'block' });

    // nothing leaves the machine: the page needs no request at all
    this.blocked = [];
    await context.route('**/*', (route) => {
      this.blocked.push(route.request().url());
      return route.abort();
    });

    this.page = await context.newPage();
    this.pageErrors = [];
    this.page.on('pageerror', (err) => this.pageErrors.push(`page error: ${String(err.message).split('\n')[0]}`));
    this.page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') {
        // first line only: bpmn-js logs a stack trace after each import failure
        this.pageErrors.push(`console.${msg.type()}: ${msg.text().split('\n')[0]}`);
      }
    });

    await this.page.setContent(PAGE);
    await this.page.addScriptTag({ path: VIEWER_BUNDLE });
    await this.page.evaluate(installImporter);

    this.version = await this.page.evaluate(() => window.navigator.userAgent);

    return this;
  }

  /**
   * @return {Promise<{message: string, element: string|null}[]>}
   */
  async importXML(xml) {
    this.pageErrors.length = 0;
    this.blocked.length = 0;

    const result = await this.page.evaluate((x) => window.__importDiagram(x), xml);
    const problems = [];

    if (result.error) {
      problems.push({ kind: 'error', message: result.error, element: null });
    }
    for (const w of result.warnings) {
      problems.push({ kind: 'warning', ...w });
    }
    for (const message of this.pageErrors) {
      problems.push({ kind: 'console', message, element: null });
    }
    for (const url of this.blocked) {
      problems.push({ kind: 'network', message: `diagram made the viewer request ${url} (blocked)`, element: null });
    }

    return problems;
  }

  /**
   * Render one diagram to a PNG (for authors: see what bpmn-js shows).
   * Returns the same problems as importXML.
   */
  async screenshot(xml, pngPath) {
    if (!this.styled) {
      for (const path of VIEWER_CSS) {
        await this.page.addStyleTag({ path });
      }
      this.styled = true;
    }
    this.pageErrors.length = 0;
    this.blocked.length = 0;
    const result = await this.page.evaluate(async (x) => {
      const container = document.getElementById('canvas');
      container.innerHTML = '';
      window.__shown && window.__shown.destroy();
      const viewer = window.__shown = new window.BpmnJS({ container });
      try {
        const { warnings } = await viewer.importXML(x);
        viewer.get('canvas').zoom('fit-viewport');
        return { warnings: warnings.map((w) => ({ message: String(w.message), element: w.element && w.element.id || null })), error: null };
      } catch (err) {
        return { warnings: [], error: String(err.message || err) };
      }
    }, xml);
    await this.page.locator('#canvas').screenshot({ path: pngPath });
    await this.page.evaluate(() => { window.__shown && window.__shown.destroy(); window.__shown = null; });
    return [
      ...(result.error ? [ { kind: 'error', message: result.error, element: null } ] : []),
      ...result.warnings.map((w) => ({ kind: 'warning', ...w })),
      ...this.pageErrors.map((message) => ({ kind: 'console', message, element: null }))
    ];
  }

  async close() {
    // a launch still under way would otherwise leave chromium running
    await (this.starting || Promise.resolve()).catch(() => {});
    if (this.browser) {
      await this.browser.close();
    }
  }
}
