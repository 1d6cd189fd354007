#!/usr/bin/env bash
# Install briefgen into ./.venv, with the system libraries WeasyPrint needs.
#   bash scripts/install.sh          the tool
#   bash scripts/install.sh --test   the tool and its test dependencies, and Chromium
#                                    for the browser test
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)

have_system_libraries() {
  ldconfig -p | grep -q 'libpango-1.0.so.0' &&
  ldconfig -p | grep -q 'libpangoft2-1.0.so.0' &&
  ldconfig -p | grep -q 'libharfbuzz-subset.so.0' &&
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]
}

install_system_libraries() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "briefgen needs: ${SYSTEM_PACKAGES[*]} (apt-get install them as root)" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "briefgen needs Pango >= 1.44, HarfBuzz subset and DejaVu fonts; install them with your package manager" >&2
    exit 1
  fi
  echo "installing system libraries: ${SYSTEM_PACKAGES[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${SYSTEM_PACKAGES[@]}" >/dev/null
}

have_system_libraries || install_system_libraries

# The browser test opens the HTML book in headless Chromium.
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null; then
  SYSTEM_PACKAGES=(chromium)
  install_system_libraries
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
