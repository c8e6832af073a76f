#!/bin/sh
# Installs Debian's chromium for the console's browser tests (driven by playwright-core, which
# downloads no browser of its own), and a CJK font for the Korean UI. Does nothing when both are there.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
# The console is in English and Korean: without a CJK font, Korean renders as boxes in screenshots.
if ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y fonts-noto-cjk || echo "fonts-noto-cjk not installed: Korean text will show as boxes"
fi
/usr/bin/chromium --version
