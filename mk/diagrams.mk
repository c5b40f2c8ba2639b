# Diagram checks: bpmnlint (recommended), headless bpmn-js import, complete DI.
# Included by the main Makefile (which defines VENV and PY; not needed here).
#
#   make node-deps       npm ci in tools/modeller-check (only when node_modules is
#                        missing or package.json/package-lock.json changed), and
#                        Debian's chromium if /usr/bin/chromium is missing
#   make lint-diagrams   node tools/modeller-check/check.mjs processes/*.bpmn
#
# Authors: node tools/modeller-check/layout.mjs IN.bpmn OUT.bpmn generates DI,
#          node tools/modeller-check/render.mjs IN.bpmn OUT.png shows it.

MODELLER_CHECK_DIR := tools/modeller-check
MODELLER_CHECK_STAMP := $(MODELLER_CHECK_DIR)/node_modules/.npm-ci.stamp
CHROMIUM_BIN := /usr/bin/chromium
# sudo only when not root
DIAGRAMS_SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: node-deps lint-diagrams

# tests/diagrams/test_modeller_compat.py runs check.mjs: the main Makefile's
# `test` needs the node side installed first (an extra prerequisite only; the
# recipe stays the main Makefile's).
test: node-deps

node-deps: $(MODELLER_CHECK_STAMP) $(CHROMIUM_BIN)

# npm ci wipes node_modules first, so the stamp inside it goes too and is
# written again only after a complete install.
$(MODELLER_CHECK_STAMP): $(MODELLER_CHECK_DIR)/package.json $(MODELLER_CHECK_DIR)/package-lock.json
	@command -v node >/dev/null || { echo "node-deps: node (>= 20) and npm are needed" >&2; exit 1; }
	cd $(MODELLER_CHECK_DIR) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

# Playwright never downloads a browser here: check.mjs drives Debian's chromium.
$(CHROMIUM_BIN):
	$(DIAGRAMS_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
	  || { $(DIAGRAMS_SUDO) apt-get update && $(DIAGRAMS_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

lint-diagrams: node-deps
	@set -- processes/*.bpmn; \
	if [ ! -e "$$1" ]; then echo "lint-diagrams: no processes/*.bpmn yet"; exit 0; fi; \
	echo "node $(MODELLER_CHECK_DIR)/check.mjs processes/*.bpmn"; \
	node $(MODELLER_CHECK_DIR)/check.mjs "$$@"
