#!/usr/bin/env bash
# Install Debian bookworm's Keystone (2:22.0.2, OpenStack Zed), the openstack CLI
# and uWSGI, without letting the package configure a database or start a service.
# Safe to re-run: exits at once when everything is already installed.
# Run as root (CI) or with sudo: sudo scripts/keystone/install.sh
set -euo pipefail

PKGS="keystone python3-openstackclient uwsgi-core uwsgi-plugin-python3 curl jq sqlite3 oathtool"
die() { echo "install.sh: $*" >&2; exit 1; }
# Wait for a concurrent apt/dpkg (e.g. unattended-upgrades on a fresh VM) instead of failing.
APT_OPTS=(-q -o DPkg::Lock::Timeout=300)

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done

if [ -n "$missing" ]; then
  [ "$(id -u)" = 0 ] || die "must run as root to install:$missing (try: sudo $0)"
  command -v apt-get >/dev/null || die "apt-get not found: this needs Debian 12 (bookworm)"
  start=$(date +%s)
  echo "install.sh: installing$missing" >&2
  apt-get "${APT_OPTS[@]}" update >/dev/null || die "apt-get update failed"
  # Fail early and clearly on a distro whose keystone is not Zed (e.g. Ubuntu, Debian 13).
  cand=$(apt-cache policy keystone 2>/dev/null | awk '/Candidate:/ {print $2}')
  case "$cand" in 2:22.*) ;; *) die "apt offers keystone '${cand:-none}', need 2:22.x (Zed, Debian 12 bookworm)" ;; esac
  # Keystone's postinst asks debconf whether to set up a DB / bootstrap an admin /
  # register an endpoint. Answer "no" to all: up.sh does that in its own state dir.
  debconf-set-selections <<'SEL'
keystone keystone/configure_db boolean false
keystone keystone/create-admin-tenant boolean false
keystone keystone/register-endpoint boolean false
SEL
  # The postinst also runs "invoke-rc.d keystone start", which would start a uwsgi
  # on port 5000 with /etc/keystone. Forbid service starts for the install only.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing </dev/null \
    || die "apt-get install failed for:$missing"
  echo "install.sh: installed$missing in $(( $(date +%s) - start ))s" >&2
fi

ver=$(dpkg-query -W -f='${Version}' keystone)
case "$ver" in 2:22.*) ;; *) die "expected keystone 2:22.x (Zed), found $ver" ;; esac
echo "install.sh: keystone $ver ready"
