#!/usr/bin/env bash
# The browser tests (npm run e2e) drive Debian's Chromium; playwright's own browser download is
# never used. Installs it with apt when /usr/bin/chromium is missing (needs root, as in CI).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "ensure-chromium: /usr/bin/chromium is missing; installing Debian's chromium with apt" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ensure-chromium: not root and no sudo: run 'apt-get update && apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium
test -x /usr/bin/chromium
