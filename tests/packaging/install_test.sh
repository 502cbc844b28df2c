#!/usr/bin/env bash
# The install test of the Debian packages (ctest label `packaging`; `script/test -L packaging`).
#
#   tests/packaging/install_test.sh BUILD_DIR
#
# Builds postwarden-agent and postwarden-controller from the built tree BUILD_DIR with
# script/package (no -dbgsym: the two packages themselves are the same), runs lintian (no
# errors; warnings only the ones packaging/README.md justifies), checks the packages'
# contents and maintainer scripts with dpkg-deb -c/-I, extracts them into a temp root and runs
# the packaged binaries from there: --version, plan on Debian's own main.cf and master.cf, and
# a controller with an agent enrolled through the shipped example agent.yaml, all on loopback.
# Also runs the packages' own parts of the maintainer scripts on temp paths (the controller's
# postinst with stub adduser/chown, the agent's purge), and checks that
# `cmake --install --prefix /usr` gives the packages' layout. Changes nothing outside its temp
# directory (no dpkg -i, no users, no units); stops what it started and removes the temp
# directory, also on failure.
set -euo pipefail
build_dir=$(cd "${1:?usage: install_test.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/postwarden-packaging.XXXXXX)
controller_pid=
cleanup() {
  if [ -n "$controller_pid" ]; then
    kill "$controller_pid" 2>/dev/null || true
    wait "$controller_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
step() { echo; echo "== $*"; }

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")
agent_deb=$work/out/postwarden-agent_${version}_amd64.deb
controller_deb=$work/out/postwarden-controller_${version}_amd64.deb

step "script/package (dpkg-buildpackage with debhelper, from $build_dir)"
"$root/script/package" --build-dir "$build_dir" --out "$work/out" --no-dbgsym
for deb in "$agent_deb" "$controller_deb"; do
  [ -f "$deb" ] && ok "built ${deb##*/} ($(stat -c %s "$deb") bytes)" || fail "no $deb"
done

step "lintian"
# Allowed: the tags packaging/README.md lists and justifies (none now). Errors never are.
allowed_warnings=()
lintian --display-level '>=warning' "$work"/out/*.changes >"$work/lintian.txt" 2>&1 || true
grep -v '^running with root privileges' "$work/lintian.txt" | sed 's/^/  /' || true
while read -r severity package tag _; do
  case "$severity" in
    E:) fail "lintian error: $package $tag" ;;
    W:) printf '%s\n' "${allowed_warnings[@]+"${allowed_warnings[@]}"}" | grep -qx "$tag" ||
          fail "lintian warning not justified in packaging/README.md: $package $tag" ;;
  esac
done <"$work/lintian.txt"
grep -q '^E:' "$work/lintian.txt" || ok "no lintian errors"

step "dpkg-deb -c: contents"
# Files and symlinks (not directories) with their modes, owner root/root everywhere.
contents() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $1, $2, $6}' | sort -k3; }
expect_agent="-rw-r--r-- root/root ./etc/postwarden/agent.yaml
-rw-r--r-- root/root ./lib/systemd/system/postwarden-agent.service
-rw-r--r-- root/root ./lib/systemd/system/postwarden-agent.timer
-rw-r--r-- root/root ./lib/systemd/system/postwarden-agentd.service
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/agent-config.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/apply.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/baselines.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/copyright
-rw-r--r-- root/root ./usr/share/doc/postwarden-agent/install.md.gz
-rw-r--r-- root/root ./usr/share/man/man8/postwarden-agent.8.gz
-rw-r--r-- root/root ./usr/share/man/man8/postwarden-agentd.8.gz
-rw-r--r-- root/root ./usr/share/postwarden/policies/banner.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/certificate.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/open-relay.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/rate-limits.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/smtp-auth-hardening.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/smtp-smuggling.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/submission-587.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/tls-ciphers.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/tls-protocols.yaml
-rw-r--r-- root/root ./usr/share/postwarden/policies/vrfy.yaml
-rwxr-xr-x root/root ./usr/sbin/postwarden-agent
-rwxr-xr-x root/root ./usr/sbin/postwarden-agentd"
expect_controller="-rw-r--r-- root/root ./etc/default/postwarden-controller
-rw-r--r-- root/root ./lib/systemd/system/postwarden-controller.service
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/copyright
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/fleet.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/install.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/postwardenctl.md.gz
-rw-r--r-- root/root ./usr/share/doc/postwarden-controller/rollouts.md.gz
-rw-r--r-- root/root ./usr/share/man/man1/postwardenctl.1.gz
-rw-r--r-- root/root ./usr/share/man/man8/postwarden-controller.8.gz
-rwxr-xr-x root/root ./usr/bin/postwardenctl
-rwxr-xr-x root/root ./usr/sbin/postwarden-controller"
check_contents() {  # NAME DEB EXPECTED
  if diff -u <(sort -k3 <<<"$3") <(contents "$2") >"$work/diff"; then
    ok "$1: the expected $(wc -l <<<"$3") files, modes and owners"
  else
    fail "$1 contents differ (- expected, + packaged):"; cat "$work/diff" >&2
  fi
}
check_contents postwarden-agent "$agent_deb" "$expect_agent"
check_contents postwarden-controller "$controller_deb" "$expect_controller"

step "dpkg-deb -I: control fields and maintainer scripts"
field() { dpkg-deb -f "$1" "$2"; }
for deb in "$agent_deb" "$controller_deb"; do
  name=$(field "$deb" Package)
  [ "$(field "$deb" Version)" = "$version" ] && ok "$name: Version $version (CMake project version)" ||
    fail "$name: Version '$(field "$deb" Version)', CMake project version '$version'"
  depends=$(field "$deb" Depends)
  # ${shlibs:Depends}: the libraries dpkg-shlibdeps found in the binaries, with versions.
  for lib in 'libc6 (>= ' 'libstdc++6 (>= ' 'libssl3 (>= ' 'libgrpc++1.51 (>= ' 'libyaml-cpp0.7 (>= '; do
    grep -qF "$lib" <<<"$depends" || fail "$name: Depends lacks '$lib': $depends"
  done
  ok "$name: Depends: $depends"
  mkdir -p "$work/control/$name"
  dpkg-deb -e "$deb" "$work/control/$name"
done
c=$work/control
[ "$(cat "$c/postwarden-agent/conffiles")" = /etc/postwarden/agent.yaml ] &&
  ok "postwarden-agent: conffile /etc/postwarden/agent.yaml" || fail "agent conffiles: $(cat "$c/postwarden-agent/conffiles")"
[ "$(cat "$c/postwarden-controller/conffiles")" = /etc/default/postwarden-controller ] &&
  ok "postwarden-controller: conffile /etc/default/postwarden-controller" ||
  fail "controller conffiles: $(cat "$c/postwarden-controller/conffiles")"
grep -q 'adduser --quiet --system --group --home "$datadir"' "$c/postwarden-controller/postinst" &&
  grep -q 'chown postwarden:postwarden "$datadir"' "$c/postwarden-controller/postinst" &&
  ok "postwarden-controller postinst: system user postwarden, $(grep -m1 '^datadir=' "$c/postwarden-controller/postinst") owned by it" ||
  fail "controller postinst does not create the user and its data directory"
grep -q 'rm -rf /var/lib/postwarden-controller' "$c/postwarden-controller/postrm" &&
  ok "postwarden-controller postrm: purge deletes /var/lib/postwarden-controller" || fail "controller postrm"
for name in postwarden-agent postwarden-controller; do
  # dh_installsystemd --no-enable: each unit's "enable" is guarded by debian-installed (it
  # re-enables only what was enabled before); without it new installations would enable.
  enables=$(grep -c 'was-enabled' "$c/$name/postinst" || true)
  guards=$(grep -c 'deb-systemd-helper debian-installed' "$c/$name/postinst" || true)
  if [ "$enables" -gt 0 ] && [ "$enables" = "$guards" ]; then
    ok "$name postinst: $enables unit(s) not enabled on install; deb-systemd-invoke restarts them on upgrade only when enabled or running"
  else
    fail "$name postinst may enable units on install ($enables was-enabled, $guards guards)"
  fi
  for script in postinst postrm prerm; do
    sh -n "$c/$name/$script" || fail "$name $script: syntax"
  done
done

step "extract into a temp root"
r=$work/root
mkdir -p "$r"
dpkg-deb -x "$agent_deb" "$r"
dpkg-deb -x "$controller_deb" "$r"
step "manual pages render without warnings"
# man's own formatter with every groff warning on (-ww); any message on stderr is a failure.
for page in man8/postwarden-agent.8 man8/postwarden-agentd.8 man8/postwarden-controller.8 man1/postwardenctl.1; do
  file=$r/usr/share/man/$page.gz
  if [ ! -f "$file" ]; then
    fail "no manual page $page.gz in the packages"; continue
  fi
  rendered=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings=w -E UTF-8 -l "$file" 2>"$work/man.err" </dev/null) ||
    fail "man -l $page failed"
  if [ -s "$work/man.err" ]; then
    fail "man -l $page warns:"; sed 's/^/  /' "$work/man.err" >&2
  elif ! grep -q "^EXIT STATUS" <<<"$rendered" || ! grep -q "^SEE ALSO" <<<"$rendered"; then
    fail "$page lacks EXIT STATUS or SEE ALSO"
  else
    ok "$page: $(wc -l <<<"$rendered") lines, no warnings, EXIT STATUS and SEE ALSO"
  fi
done
# Every option a binary's --help names is in its page.
for bin in usr/sbin/postwarden-agent usr/sbin/postwarden-agentd usr/sbin/postwarden-controller usr/bin/postwardenctl; do
  name=${bin##*/}
  page=$(ls "$r"/usr/share/man/man*/"$name".[18].gz)
  text=$(zcat "$page" | sed 's/\\-/-/g')
  missing=
  for option in $("$r/$bin" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qF -- "$option" <<<"$text" || missing="$missing $option"
  done
  section=${page%.gz}; section=${section##*.}
  [ -z "$missing" ] && ok "$name($section): every option of --help documented" ||
    fail "$name's page lacks:$missing"
done

for bin in usr/sbin/postwarden-agent usr/sbin/postwarden-agentd usr/sbin/postwarden-controller usr/bin/postwardenctl; do
  if readelf -S "$r/$bin" | grep -q '\.debug_info'; then
    fail "$bin is not stripped"
  fi
  line=$("$r/$bin" --version)
  [[ "$line" =~ ^${bin##*/}\ ${version//./\\.}\ \(git\ [0-9a-f]{7,}(-dirty)?\)$ ]] &&
    ok "$line ($(stat -c %s "$r/$bin") bytes, stripped)" || fail "$bin --version: '$line'"
done

step "units: ExecStart binaries are the packaged ones; systemd-analyze verify"
for unit in "$r"/lib/systemd/system/*; do
  for path in $(grep -ohE '^Exec[A-Za-z]*=[^ ]+|/usr/s?bin/postwarden[a-z-]*' "$unit" | sed 's/^Exec[A-Za-z]*=//' | sort -u); do
    case "$path" in
      /bin/sh) ;;
      /usr/*) [ -x "$r$path" ] || fail "${unit##*/} runs $path, which no package installs" ;;
      *) fail "${unit##*/} runs $path (not under /usr/sbin or /usr/bin)" ;;
    esac
  done
done
ok "every unit runs /usr/sbin or /usr/bin binaries of the packages"
if command -v systemd-analyze >/dev/null; then
  # The packaged units with their /usr/sbin, /usr/bin binaries moved to the extracted root, so
  # verify checks the binaries the packages install; anything verify prints (an unknown key,
  # a bad value, a missing binary) or a non-zero exit fails.
  mkdir -p "$work/verify"
  for unit in "$r"/lib/systemd/system/*; do
    sed -e "s|/usr/sbin/postwarden|$r/usr/sbin/postwarden|g" -e "s|/usr/bin/postwarden|$r/usr/bin/postwarden|g" \
      "$unit" >"$work/verify/${unit##*/}"
  done
  if systemd-analyze verify --man=no "$work"/verify/* >"$work/verify.txt" 2>&1 && [ ! -s "$work/verify.txt" ]; then
    ok "systemd-analyze verify: the $(ls "$work/verify" | wc -l) units, no output"
  else
    fail "systemd-analyze verify:"; cat "$work/verify.txt" >&2
  fi
  # The hardening stays: systemd-analyze security's exposure (packaging/README.md records the
  # figures) must not rise above these ceilings.
  for ceiling in postwarden-controller.service:2.0 postwarden-agentd.service:3.5 postwarden-agent.service:3.5; do
    unit=${ceiling%%:*}
    score=$(systemd-analyze security --offline=yes --no-pager "$r/lib/systemd/system/$unit" 2>/dev/null |
            sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
    if [ -n "$score" ] && awk -v s="$score" -v c="${ceiling##*:}" 'BEGIN { exit !(s <= c) }'; then
      ok "systemd-analyze security $unit: $score (ceiling ${ceiling##*:})"
    else
      fail "systemd-analyze security $unit: '$score', above ${ceiling##*:}"
    fi
  done
else
  echo "skip: systemd-analyze not installed"
fi

step "postwarden-agent plan against Debian's main.cf and master.cf, with the packaged baseline"
mkdir -p "$work/postfix"
cp /usr/share/postfix/main.cf.debian "$work/postfix/main.cf"
cp /usr/share/postfix/master.cf.dist "$work/postfix/master.cf"
set +e
"$r/usr/sbin/postwarden-agent" plan --postfix-dir "$work/postfix" \
  --policy "$r/usr/share/postwarden/policies/smtp-auth-hardening.yaml" >"$work/plan.txt" 2>&1
rc=$?
set -e
if [ "$rc" = 2 ] && grep -q 'smtpd_tls_auth_only: (unset) -> yes' "$work/plan.txt"; then
  ok "plan: exit 2, $(tail -1 "$work/plan.txt")"
else
  fail "plan exited $rc:"; cat "$work/plan.txt" >&2
fi

step "the packaged controller, postwardenctl and agent on loopback, enrolled with the example agent.yaml"
ctl_dir=$work/controller
# The unit's first-start step, as systemd runs it ($$ is systemd's escape for $), with the
# packaged /etc/default file plus a name, paths moved into the temp root; twice: the second
# start must keep the CA.
pre=$(sed -n "s|^ExecStartPre=/bin/sh -c '\(.*\)'\$|\1|p" "$r/lib/systemd/system/postwarden-controller.service" |
      sed -e 's/\$\$/$/g' -e "s|/usr/sbin/|$r/usr/sbin/|g" -e "s|/var/lib/postwarden-controller|$ctl_dir|g")
mkdir -m 0700 "$ctl_dir"
for start in first second; do
  (set -a; . "$r/etc/default/postwarden-controller"
   POSTWARDEN_CONTROLLER_INIT_ARGS="$POSTWARDEN_CONTROLLER_INIT_ARGS --name controller.pkgtest.example"
   exec /bin/sh -c "$pre") >"$work/init-$start.txt" 2>&1 || { fail "unit ExecStartPre ($start start):"; cat "$work/init-$start.txt" >&2; }
  sha256sum "$ctl_dir/ca.key" >>"$work/ca-sums"
done
if [ "$(sort -u "$work/ca-sums" | wc -l)" = 1 ] && [ -s "$ctl_dir/controller.db" ] &&
   openssl x509 -in "$ctl_dir/server.crt" -noout -ext subjectAltName | grep -q 'DNS:controller.pkgtest.example'; then
  ok "unit ExecStartPre: first start made CA, database, certificate for controller.pkgtest.example; second start kept the CA"
else
  fail "unit ExecStartPre did not initialize once: $(cat "$work"/init-*.txt)"
fi
"$r/usr/sbin/postwarden-controller" operator add admin --role admin --data-dir "$ctl_dir" \
  --out "$work/admin" >/dev/null
"$r/usr/sbin/postwarden-controller" serve --data-dir "$ctl_dir" --listen 127.0.0.1:0 \
  --port-file "$work/ports" >"$work/controller.log" 2>&1 &
controller_pid=$!
for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
read -r port enroll_port <"$work/ports"
sed -i "s/^controller: .*/controller: 127.0.0.1:$port\ncontroller_name: localhost/" "$work/admin/postwardenctl.yaml"
export POSTWARDENCTL_CONFIG=$work/admin/postwardenctl.yaml
token=$("$r/usr/bin/postwardenctl" --json token create --labels site=pkgtest --ttl 10m --uses 1 |
  sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
printf '%s\n' "$token" >"$work/token"
# The shipped example, pointed at this controller: proves it parses as the agent reads it.
sed -e "s|^controller: .*|controller: 127.0.0.1:$port\ncontroller_name: localhost\nagent_id: pkgtest.example.org|" \
    -e "s|^ca_file: .*|ca_file: $ctl_dir/ca.crt|" -e "s|^state_dir: .*|state_dir: $work/agent-state|" \
    -e "s|^postfix_dir: .*|postfix_dir: $work/postfix|" \
    "$r/etc/postwarden/agent.yaml" >"$work/agent.yaml"
if "$r/usr/sbin/postwarden-agent" enroll --config "$work/agent.yaml" \
     --enroll-address "127.0.0.1:$enroll_port" --token-file "$work/token" >"$work/enroll.txt" 2>&1 &&
   [ -s "$work/agent-state/agent.pem" ]; then
  ok "postwarden-agent enroll (exec'd the packaged postwarden-agentd): $(head -1 "$work/enroll.txt")"
else
  fail "enroll:"; cat "$work/enroll.txt" >&2
fi
if "$r/usr/bin/postwardenctl" agents >"$work/agents.txt" 2>&1 && grep -q pkgtest.example.org "$work/agents.txt"; then
  ok "postwardenctl agents lists pkgtest.example.org"
else
  fail "postwardenctl agents:"; cat "$work/agents.txt" >&2
fi
kill "$controller_pid"
wait "$controller_pid" || true
controller_pid=

step "postwarden-agent postrm purge keeps the Postfix backups and the journal"
state=$work/purge/var/lib/postwarden
mkdir -p "$state/outbox" "$state/backups/20261204T201500Z-812" "$work/purge/etc/postwarden"
touch "$state/agent.pem" "$state/outbox/1.report" "$state/lock" "$state/journal" \
      "$state/backups/20261204T201500Z-812/main.cf" "$state/journal.cleared-1"
# Only the package's own part, before debhelper's snippets (those talk to the host's systemd).
sed -e '/^# Automatically added by/,$d' -e "s|/var/lib/postwarden|$state|g" \
    -e "s|/etc/postwarden|$work/purge/etc/postwarden|g" "$c/postwarden-agent/postrm" >"$work/postrm"
sh "$work/postrm" purge 2>"$work/purge.txt"
left=$(cd "$state" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ "$left" = "./backups ./backups/20261204T201500Z-812 ./backups/20261204T201500Z-812/main.cf ./journal ./journal.cleared-1 " ] &&
   grep -q "kept $state" "$work/purge.txt" && [ ! -e "$work/purge/etc/postwarden" ]; then
  ok "purge removed agent.pem, outbox/, lock; kept $left; said: $(head -1 "$work/purge.txt")"
else
  fail "after purge: '$left'"; cat "$work/purge.txt" >&2
fi
rm -rf "$work/purge/var"
mkdir -p "$state/outbox" && touch "$state/agent.pem"
sh "$work/postrm" purge 2>"$work/purge.txt"
[ ! -e "$state" ] && [ ! -s "$work/purge.txt" ] && ok "purge without backups removes $state silently" ||
  fail "purge without backups left $(ls -A "$state" 2>&1)"
sh "$work/postrm" remove && ok "postrm remove succeeds and deletes nothing"

step "postwarden-controller postinst configure: user and data directory once"
# The package's own part with stub adduser/getent/chown (they record their calls) and the
# data directory moved into the temp dir: no user is created on this host.
stubs=$work/stubs
mkdir -p "$stubs"
for cmd in adduser chown; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$cmd" "$work" >"$stubs/$cmd"
done
printf '#!/bin/sh\n[ -f "%s/user-exists" ]\n' "$work" >"$stubs/getent"
chmod +x "$stubs"/*
sed -e '/^# Automatically added by/,$d' -e "s|/var/lib/postwarden-controller|$work/ctl-data|g" \
    "$c/postwarden-controller/postinst" >"$work/postinst"
PATH=$stubs:$PATH sh "$work/postinst" configure
expected_calls="adduser --quiet --system --group --home $work/ctl-data --no-create-home --gecos Postwarden controller postwarden
chown postwarden:postwarden $work/ctl-data"
if [ "$(cat "$work/calls")" = "$expected_calls" ] && [ "$(stat -c %a "$work/ctl-data")" = 700 ]; then
  ok "first configure: adduser --system postwarden, data directory 0700 chowned to it"
else
  fail "first configure called: $(cat "$work/calls"), directory mode $(stat -c %a "$work/ctl-data")"
fi
: >"$work/calls"; touch "$work/user-exists"
PATH=$stubs:$PATH sh "$work/postinst" configure
[ ! -s "$work/calls" ] && ok "upgrade (user and directory exist): no adduser, no chown" ||
  fail "second configure called: $(cat "$work/calls")"

step "cmake --install --prefix /usr gives the packages' layout"
DESTDIR=$work/cmake-usr cmake --install "$build_dir" --prefix /usr >/dev/null
installed=$(cd "$work/cmake-usr" && find . -type f | sort)
packaged=$(cat <(contents "$agent_deb") <(contents "$controller_deb") | awk '{print $3}' |
           grep -v -e '^./usr/share/doc/' -e '^./usr/share/man/' | sort)
if [ "$installed" = "$packaged" ]; then
  ok "the same $(wc -l <<<"$installed") files (the packages add only /usr/share/doc and /usr/share/man)"
else
  fail "cmake --install --prefix /usr differs from the packages:"; diff <(echo "$installed") <(echo "$packaged") >&2 || true
fi
DESTDIR=$work/cmake-local cmake --install "$build_dir" --prefix /opt/postwarden >/dev/null
if grep -q '^ExecStart=/opt/postwarden/sbin/postwarden-agent ' \
     "$work/cmake-local/opt/postwarden/lib/systemd/system/postwarden-agentd.service" &&
   [ -f "$work/cmake-local/opt/postwarden/etc/postwarden/agent.yaml" ]; then
  ok "--prefix /opt/postwarden: units run /opt/postwarden/sbin/..., configs in /opt/postwarden/etc"
else
  fail "--prefix /opt/postwarden: units or configs misplaced"
fi
echo 'controller: mine:7443' >"$work/cmake-usr/etc/postwarden/agent.yaml"
DESTDIR=$work/cmake-usr cmake --install "$build_dir" --prefix /usr >/dev/null
[ "$(cat "$work/cmake-usr/etc/postwarden/agent.yaml")" = 'controller: mine:7443' ] &&
  ok "cmake --install keeps an existing /etc/postwarden/agent.yaml" ||
  fail "cmake --install replaced an existing agent.yaml"

echo
if [ "$failures" -gt 0 ]; then
  echo "packaging install test: $failures failure(s)"
  exit 1
fi
echo "packaging install test: all checks passed"
