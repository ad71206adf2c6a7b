#!/usr/bin/env bash
# Make sure the registry tests can run: install Debian's docker-registry (distribution 2.8) and
# htpasswd (apache2-utils) when they are missing.  It starts nothing: tests/registry_harness.py
# starts each registry the tests need (plain, htpasswd, token auth) on a free 127.0.0.1 port with
# a throwaway config and storage, and stops it when the session ends.  Without the packages those
# tests skip and say what to install.
#
# Usage (as root, or with sudo available):  bash .ci/start-registry.sh
set -euo pipefail

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi

missing=()
[ -x /usr/bin/docker-registry ] || command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "start-registry: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
        "${as_root[@]}" apt-get update
        "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
    fi
    # On a machine with systemd the package starts its own service on :5000; the tests never use it.
    if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null 2>&1 \
        && systemctl is-active --quiet docker-registry 2>/dev/null; then
        "${as_root[@]}" systemctl disable --now docker-registry || true
    fi
fi

registry=/usr/bin/docker-registry
[ -x "$registry" ] || registry=$(command -v docker-registry)
echo "start-registry: $("$registry" --version)"
echo "start-registry: htpasswd at $(command -v htpasswd)"
