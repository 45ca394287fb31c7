#!/usr/bin/env bash
# Install the npm packages of the Node.js client test (test/node) exactly as
# pinned in package-lock.json (npm ci).  Downloads are cached in
# ~/.cache/vecrec-npm, so later runs work without the registry.
#
#   bash test/node/setup.sh        (make node-deps; make test runs it)
#
# VECREC_SKIP_NODE=1 skips the Node.js test on purpose: nothing is installed
# and test/t/040_node_client.pl skips.  Otherwise a missing node/npm or an
# unreachable registry is an error, never a silent skip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { echo "node-deps: $*"; }
die() { echo "node-deps: error: $*" >&2; exit 1; }

if [ -n "${VECREC_SKIP_NODE:-}" ] && [ "${VECREC_SKIP_NODE}" != 0 ]; then
	say "VECREC_SKIP_NODE is set: not installing the npm packages (the Node.js client test will skip)"
	exit 0
fi

command -v node >/dev/null 2>&1 || die "node not found: install Debian's nodejs (bash scripts/deps.sh does), or set VECREC_SKIP_NODE=1 to skip the Node.js client test"
command -v npm >/dev/null 2>&1 || die "npm not found: install Debian's npm (bash scripts/deps.sh does), or set VECREC_SKIP_NODE=1 to skip the Node.js client test"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || die "Node.js $(node --version) is too old: 18 or later is needed"

cache="${VECREC_NPM_CACHE:-$HOME/.cache/vecrec-npm}"
mkdir -p "$cache"
cd "$HERE"
# --prefer-offline: packages already in the cache are not fetched again
if ! npm ci --cache "$cache" --prefer-offline --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1; then
	tail -n 20 npm-ci.log >&2
	die "npm ci failed in test/node (is the npm registry $(npm config get registry 2>/dev/null) reachable?); log: test/node/npm-ci.log. Set VECREC_SKIP_NODE=1 to skip the Node.js client test."
fi
rm -f npm-ci.log
say "installed $(node -p 'Object.keys(require("./package.json").dependencies).join(", ")') into test/node/node_modules (node $(node --version), npm $(npm --version))"
