# The web app: bpmn-js from npm, copied into the package and served locally (no CDN), and
# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
WEB_STATIC := src/hsm_workflow/web/static
WEB_VENDOR_SRC := $(WEB_STATIC)/vendor-src
WEB_VENDOR := $(WEB_STATIC)/vendor
BPMN_DIST := $(WEB_VENDOR_SRC)/node_modules/bpmn-js/dist
WEB_ASSETS := $(WEB_VENDOR)/bpmn-navigated-viewer.production.min.js $(WEB_VENDOR)/bpmn-js.css \
	$(WEB_VENDOR)/diagram-js.css
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: web-assets chromium test-web bench-inbox

web-assets: $(WEB_ASSETS)

$(WEB_VENDOR_SRC)/node_modules/.installed: $(WEB_VENDOR_SRC)/package.json $(WEB_VENDOR_SRC)/package-lock.json
	cd $(WEB_VENDOR_SRC) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(WEB_VENDOR)/bpmn-navigated-viewer.production.min.js: $(WEB_VENDOR_SRC)/node_modules/.installed
	cp $(BPMN_DIST)/bpmn-navigated-viewer.production.min.js $@

$(WEB_VENDOR)/%.css: $(WEB_VENDOR_SRC)/node_modules/.installed
	cp $(BPMN_DIST)/assets/$*.css $@

chromium: $(CHROMIUM_BIN)  # the install rule is in mk/diagrams.mk

test-web: install web-assets chromium
	$(PY) -m pytest -q tests/web

# Inbox response time with 10,000 cases (bulk-inserted rows): prints p50/p95 of GET /.
bench-inbox: install
	$(PY) tests/web/bench_inbox.py
