#!/usr/bin/env bash
# Install the Debian packages needed to build and test vecrec.
#
#   scripts/deps.sh [EXTRA_PACKAGE...]
#
# Idempotent: asks dpkg what is missing and only then runs apt-get
# (non-interactively). Extra package names given as arguments are checked and
# installed the same way, e.g. `scripts/deps.sh nodejs npm`.
# Not root and something missing: prints the apt-get command and fails.
set -euo pipefail

pkgs=(postgresql-15 postgresql-server-dev-15 libsimde-dev libipc-run-perl)
# Compiler and make for PGXS; prove (perl) for the TAP tests.
if ! command -v gcc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
	pkgs+=(build-essential)
fi
if ! command -v prove >/dev/null 2>&1; then
	pkgs+=(perl)
fi
# Node.js and npm for the client test (test/t/040_node_client.pl), unless
# VECREC_SKIP_NODE=1; a node from elsewhere (nodesource, nvm) is fine.
if [ -z "${VECREC_SKIP_NODE:-}" ] || [ "${VECREC_SKIP_NODE}" = 0 ]; then
	command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
	command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
pkgs+=("$@")

# Packages dpkg knows as installed; anything else in the list is missing.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null |
	awk '$2 == "installed" { print $1 }' || true)
missing=()
for p in "${pkgs[@]}"; do
	grep -qxF -- "${p%%:*}" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: not root; install them with:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
echo "deps.sh: installed ${missing[*]}"
