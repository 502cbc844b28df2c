#!/usr/bin/env bash
# Install, upgrade, remove and purge of the .debs with dpkg and apt on a real Debian 12 system:
# a throwaway debootstrap (minbase) chroot in a temp directory, removed at the end. Checks what
# docs/install.md promises: the user and data directory, no unit enabled, an edited conffile
# kept across an upgrade, configs and state kept on remove, and on purge the controller's
# state deleted while the agent's Postfix backups and journal stay (and are reported).
#
#   tests/packaging/lifecycle_chroot.sh BUILD_DIR
#
# Opt-in, not part of script/test: it needs root, debootstrap and the apt mirror, and takes
# about 2 minutes. Nothing runs outside the chroot but `postwarden-controller init` (as the
# chroot's postwarden user; it binds a free loopback port for a moment); no daemon is started
# (a chroot has no init system).
set -euo pipefail
build_dir=$(cd "${1:?usage: lifecycle_chroot.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
work=$(mktemp -d /tmp/postwarden-lifecycle.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() {  # DESCRIPTION COMMAND... (run in the chroot)
  local what=$1; shift
  if chroot "$r" "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}

"$root/script/package" --build-dir "$build_dir" --out "$work/out" --no-dbgsym >/dev/null
version=$(dpkg-deb -f "$work"/out/postwarden-agent_*_amd64.deb Version)
upgrade=${version}+lifecycle1
r=$work/root
echo "== debootstrap bookworm (minbase)"
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
debootstrap --variant=minbase bookworm "$r" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 ||
  { tail "$work/debootstrap.log" >&2; exit 1; }
cp /etc/resolv.conf "$r/etc/" 2>/dev/null || true
for p in agent controller; do
  cp "$work/out/postwarden-${p}_${version}_amd64.deb" "$r/root/"
  # The same package as a newer version, for the upgrade.
  dpkg-deb -R "$work/out/postwarden-${p}_${version}_amd64.deb" "$work/repack-$p"
  sed -i "s/^Version: .*/Version: $upgrade/" "$work/repack-$p/DEBIAN/control"
  dpkg-deb -b --root-owner-group "$work/repack-$p" "$r/root/postwarden-${p}_${upgrade}_amd64.deb" >/dev/null
done
apt_install() { chroot "$r" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }

echo "== install $version"
chroot "$r" apt-get update -qq
apt_install "/root/postwarden-agent_${version}_amd64.deb" "/root/postwarden-controller_${version}_amd64.deb" >"$work/install.log" 2>&1 ||
  { tail -20 "$work/install.log" >&2; exit 1; }
check "system user postwarden with no login shell" sh -c 'getent passwd postwarden | grep -q ":/var/lib/postwarden-controller:/usr/sbin/nologin$"'
check "/var/lib/postwarden-controller 0700 postwarden:postwarden" sh -c '[ "$(stat -c "%a %U:%G" /var/lib/postwarden-controller)" = "700 postwarden:postwarden" ]'
check "no unit enabled" sh -c '! ls /etc/systemd/system/*.wants/ 2>/dev/null | grep -q postwarden'
check "binaries run: postwarden-agent --version" /usr/sbin/postwarden-agent --version
chroot --userspec=postwarden:postwarden "$r" /usr/sbin/postwarden-controller init \
  --data-dir /var/lib/postwarden-controller >/dev/null
# State and an administrator's edits, as a host in service would have them.
chroot "$r" sh -c '
  sed -i "s/^controller: .*/controller: ctl.example.org:7443/" /etc/postwarden/agent.yaml
  echo ca >/etc/postwarden/controller-ca.pem
  mkdir -p /var/lib/postwarden/outbox /var/lib/postwarden/backups/20261205T000000Z-1
  touch /var/lib/postwarden/agent.pem /var/lib/postwarden/outbox/1 /var/lib/postwarden/journal \
        /var/lib/postwarden/backups/20261205T000000Z-1/main.cf'

echo "== upgrade to $upgrade"
apt_install "/root/postwarden-agent_${upgrade}_amd64.deb" "/root/postwarden-controller_${upgrade}_amd64.deb" >"$work/upgrade.log" 2>&1 ||
  { tail -20 "$work/upgrade.log" >&2; exit 1; }
check "upgraded" sh -c "dpkg-query -W -f='\${Version}' postwarden-agent | grep -qx '$upgrade'"
check "the edited agent.yaml kept" grep -q '^controller: ctl.example.org:7443$' /etc/postwarden/agent.yaml
check "the controller CA kept" test -s /var/lib/postwarden-controller/ca.key

echo "== remove"
chroot "$r" apt-get remove -y -qq postwarden-agent postwarden-controller >"$work/remove.log" 2>&1
check "binaries gone" sh -c '! ls /usr/sbin/postwarden* /usr/bin/postwardenctl 2>/dev/null'
check "conffiles kept" test -f /etc/postwarden/agent.yaml -a -f /etc/default/postwarden-controller
check "agent state kept" test -f /var/lib/postwarden/agent.pem -a -f /var/lib/postwarden/outbox/1
check "controller state kept" test -f /var/lib/postwarden-controller/ca.key -a -f /var/lib/postwarden-controller/controller.db

echo "== purge"
chroot "$r" apt-get purge -y -qq postwarden-agent postwarden-controller >"$work/purge.log" 2>&1
grep '^postwarden-agent: ' "$work/purge.log" | sed 's/^/  /'
check "conffiles gone" test ! -e /etc/postwarden/agent.yaml -a ! -e /etc/default/postwarden-controller
check "the administrator's CA copy kept" test -f /etc/postwarden/controller-ca.pem
check "agent identity and outbox gone" test ! -e /var/lib/postwarden/agent.pem -a ! -e /var/lib/postwarden/outbox
check "agent backups and journal kept" test -f /var/lib/postwarden/backups/20261205T000000Z-1/main.cf -a -f /var/lib/postwarden/journal
grep -q '^postwarden-agent: kept /var/lib/postwarden' "$work/purge.log" && ok "purge said it kept them" || fail "purge was silent"
check "controller state gone" test ! -e /var/lib/postwarden-controller
check "user postwarden kept" getent passwd postwarden

echo
[ "$failures" = 0 ] && echo "lifecycle: all checks passed" || { echo "lifecycle: $failures failure(s)"; exit 1; }
