#!/usr/bin/env bash
# Install every Debian package kafs needs (OpenAFS 1.8.9 servers and tools,
# MIT KDC, nftables, Python headers, a C compiler).  Idempotent: a quick
# dpkg-query when nothing is missing.  Run as root.
#
# The package list, the debconf answers and the "no daemon may start"
# policy-rc.d handling live in one place, src/kafs/testcell/debian.py, which
# `kafs-testcell up` uses as well.  This script only makes sure a python3
# exists to run it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

py=""
for c in /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        py=$(command -v "$c"); break
    fi
done
if [ -z "$py" ]; then
    [ "$(id -u)" = 0 ] || { echo "setup-debian.sh: python3 (>= 3.11) missing and not root" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends python3 ||
        { apt-get update -q || true; apt-get install -y -q --no-install-recommends python3; }
    py=/usr/bin/python3
fi

# src/ goes on the path explicitly: the module is stdlib-only and needs no venv
exec "$py" -c 'import sys; sys.path.insert(0, sys.argv[1]); del sys.argv[1]
from kafs.testcell.debian import main; sys.exit(main(sys.argv[1:]))' "$top/src" "$@"
