#!/usr/bin/env bash
# The packaged units under a real systemd: boots a throwaway container (systemd-nspawn) whose
# root is this machine's own root under a tmpfs overlay, with a private network, and inside it
# installs both .debs with dpkg, starts the controller and the agent daemon with their shipped,
# hardened units (Type=notify, watchdog, ProtectSystem=strict, the controller as `postwarden`),
# enrolls the agent, assigns smtp-auth-hardening in enforce mode and checks the result on
# Postfix's own reading and on the wire, freezes the controller to see the watchdog restart it,
# then purges both packages. Checks what `systemd-analyze verify`/`security` cannot: that the
# units really start, run and work under their sandboxing.
#
#   tests/packaging/systemd_boot.sh BUILD_DIR
#
# Opt-in, not part of script/test: it needs root, systemd-nspawn (Debian's systemd-container)
# and a kernel that lets it boot a container; about a minute. Nothing is written outside a
# temp directory: every write of the container lands in the overlay's tmpfs, and its Postfix
# listens on port 25 of the container's own network namespace, never the host's.
set -euo pipefail
build_dir=$(cd "${1:?usage: systemd_boot.sh BUILD_DIR}" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "needs root (mount, systemd-nspawn)" >&2; exit 1; }
command -v systemd-nspawn >/dev/null ||
  { echo "needs systemd-nspawn (apt-get install systemd-container)" >&2; exit 1; }

work=$(mktemp -d /tmp/postwarden-systemd.XXXXXX)
layer=$work/layer
cleanup() {
  umount "$layer/root" 2>/dev/null || true
  umount "$layer" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$source_dir/script/package" --build-dir "$build_dir" --out "$work/out" --no-dbgsym >/dev/null
mkdir -p "$layer"
mount -t tmpfs -o size=4G,mode=0755 postwarden-systemd "$layer"
mkdir "$layer/upper" "$layer/work" "$layer/root"
mount -t overlay postwarden-systemd \
  -o "lowerdir=/,upperdir=$layer/upper,workdir=$layer/work" "$layer/root"
r=$layer/root

# What runs inside: the checks as a oneshot unit that powers the container off when done.
mkdir -p "$r/root/debs" "$r/results"
cp "$work"/out/postwarden-agent_*.deb "$work"/out/postwarden-controller_*.deb "$r/root/debs/"
cp "$source_dir/tests/packaging/systemd_boot_inside.sh" "$r/root/inside.sh"
cat >"$r/etc/systemd/system/postwarden-systemd-check.service" <<'UNIT'
[Unit]
Description=Postwarden packaged units under systemd (tests/packaging/systemd_boot.sh)
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/bash /root/inside.sh
ExecStopPost=/bin/systemctl --no-block poweroff
UNIT
mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/postwarden-systemd-check.service \
  "$r/etc/systemd/system/multi-user.target.wants/postwarden-systemd-check.service"

echo "== booting the container (log: systemd_boot.log in the temp dir while it runs)"
if ! timeout 600 systemd-nspawn --directory="$r" --register=no --keep-unit --private-network \
  --machine=postwarden-check --quiet -b systemd.firstboot=off >"$work/boot.log" 2>&1; then
  echo "the container did not boot or did not power off in 10 minutes:" >&2
  tail -30 "$work/boot.log" >&2
  exit 1
fi
cat "$r/results/log" 2>/dev/null || { echo "no result from inside the container" >&2; exit 1; }
failures=$(cat "$r/results/rc" 2>/dev/null || echo missing)
[ "$failures" = 0 ] || { echo "systemd_boot: $failures failure(s)" >&2; exit 1; }
echo "systemd_boot: all checks passed"
