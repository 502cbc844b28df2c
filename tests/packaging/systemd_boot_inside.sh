#!/bin/bash
# Runs inside the container that tests/packaging/systemd_boot.sh boots (PID 1 is systemd):
# the packaged units on a real init system. Writes its log and the number of failed checks to
# /results; never run it on a real host (it rewrites /etc/postfix and /etc/hosts).
set -u
exec >/results/log 2>&1
failures=0
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
check() { # DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@" >/tmp/check.out 2>&1; then ok "$what"; else
    fail "$what"
    tail -20 /tmp/check.out | sed 's/^/    /'
  fi
}
wait_for() { # SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    if "$@" >/dev/null 2>&1; then
      ok "$what ($((i / 2)) s)"
      return 0
    fi
    sleep 0.5
  done
  fail "$what (not within $seconds s)"
  return 1
}
finish() {
  for unit in postwarden-controller postwarden-agentd; do
    echo "--- journal of $unit"
    journalctl -u "$unit" --no-pager -o short-monotonic | tail -15
  done
  echo "failures: $failures"
  echo "$failures" >/results/rc
}
trap finish EXIT

echo "127.0.0.1 controller.test mx.container.test" >>/etc/hosts
echo "== install"
check "dpkg -i installs both packages" \
  dpkg -i /root/debs/postwarden-controller_*.deb /root/debs/postwarden-agent_*.deb
check "the system user postwarden exists" id postwarden
check "no unit is enabled by the install" \
  bash -c '! systemctl is-enabled postwarden-controller && ! systemctl is-enabled postwarden-agentd'

echo "== controller"
sed -i 's/^POSTWARDEN_CONTROLLER_INIT_ARGS=.*/POSTWARDEN_CONTROLLER_INIT_ARGS="--name controller.test"/' \
  /etc/default/postwarden-controller
check "systemctl start returns once the controller said READY=1" \
  systemctl start postwarden-controller
controller_pid() { systemctl show -P MainPID postwarden-controller; }
check "the controller runs as postwarden" \
  test "$(ps -o user= -p "$(controller_pid)")" = postwarden
check "its first start made the CA and the database (owned by postwarden)" \
  test "$(stat -c %U /var/lib/postwarden-controller/ca.key)" = postwarden -a \
  -e /var/lib/postwarden-controller/controller.db
check "ProtectSystem=strict holds: it cannot write /etc" \
  nsenter -t "$(controller_pid)" -m -- test ! -w /etc/default
check "operator add writes an admin's credentials" \
  postwarden-controller operator add admin --role admin \
  --data-dir /var/lib/postwarden-controller --out /root/.config/postwarden \
  --controller controller.test:7443
export POSTWARDENCTL_CONFIG=/root/.config/postwarden/postwardenctl.yaml
check "postwardenctl reaches it over mTLS" postwardenctl agents

echo "== Postfix (the container's own, port 25 of its private network)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=mx.container.test -keyout /etc/postfix/key.pem -out /etc/postfix/cert.pem 2>/dev/null
chmod 0600 /etc/postfix/key.pem
mkdir -p /etc/postfix/sasl
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: /etc/postfix/sasl/sasldb2\n' \
  >/etc/postfix/sasl/smtpd.conf
printf 'secret' | saslpasswd2 -p -c -f /etc/postfix/sasl/sasldb2 -u mx.container.test probe
chown root:postfix /etc/postfix/sasl/sasldb2
chmod 0640 /etc/postfix/sasl/sasldb2
cat >/etc/postfix/main.cf <<'MAIN'
compatibility_level = 3.6
myhostname = mx.container.test
mydestination = localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
smtpd_tls_cert_file = /etc/postfix/cert.pem
smtpd_tls_key_file = /etc/postfix/key.pem
smtpd_tls_security_level = none
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = /etc/postfix/sasl
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
MAIN
postconf -F 'smtp/inet/chroot=n'
check "Postfix starts (postfix@-.service)" systemctl start postfix@-.service
ehlo() { # the EHLO reply on 127.0.0.1:25, without TLS
  exec 3<>/dev/tcp/127.0.0.1/25 || return 1
  local line reply=
  IFS= read -r -t 5 line <&3
  printf 'EHLO probe.test\r\n' >&3
  while IFS= read -r -t 5 line <&3; do
    reply+=$line$'\n'
    [[ $line == 250\ * ]] && break
  done
  printf 'QUIT\r\n' >&3
  exec 3<&-
  printf '%s' "$reply"
}
check "before: AUTH is offered without TLS (the Nessus 54582 finding)" \
  bash -c "$(declare -f ehlo); ehlo | grep -q '^250-AUTH'"

echo "== agent"
cp /var/lib/postwarden-controller/ca.crt /etc/postwarden/controller-ca.pem
sed -i 's/^controller: .*/controller: controller.test:7443/' /etc/postwarden/agent.yaml
token=$(postwardenctl --json token create --labels site=ct --ttl 15m |
  sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
install -m 0600 /dev/null /root/token
printf '%s\n' "$token" >/root/token
check "postwarden-agent enroll with a token" \
  postwarden-agent enroll --config /etc/postwarden/agent.yaml --token-file /root/token
check "systemctl start returns once the agent said READY=1" systemctl start postwarden-agentd
wait_for 30 "the agent is connected" \
  bash -c 'postwardenctl --json agents | grep -q "\"connected\": *true"'
ref=$(postwardenctl baseline push /usr/share/postwarden/policies/smtp-auth-hardening.yaml |
  grep -o 'smtp-auth-hardening@[0-9a-f]\{12\}' | head -1)
check "baseline pushed ($ref) and assigned in enforce mode" \
  postwardenctl baseline assign "$ref" --mode enforce --yes
wait_for 90 "the agent reports the host compliant" \
  bash -c 'postwardenctl --json agents | grep -q "\"compliance\": *\"compliant\""'
check "Postfix's own reading: smtpd_tls_auth_only = yes" \
  test "$(postconf -h smtpd_tls_auth_only)" = yes
check "on the wire: no AUTH before STARTTLS" \
  bash -c "$(declare -f ehlo); reply=\$(ehlo) && [[ \$reply == *STARTTLS* ]] && [[ \$reply != *AUTH* ]]"
check "the agent's reload went through systemd: postfix@- still active" \
  systemctl is-active postfix@-.service

echo "== watchdog"
pid=$(controller_pid)
kill -STOP "$pid"
wait_for 75 "a frozen controller is killed by the watchdog and restarted" \
  bash -c "[ \$(systemctl show -P NRestarts postwarden-controller) -ge 1 ] && systemctl is-active postwarden-controller"
check "the restarted controller answers" postwardenctl agents

echo "== stop and purge"
check "the agent stops cleanly" systemctl stop postwarden-agentd
check "its result is success" test "$(systemctl show -P Result postwarden-agentd)" = success
check "the controller stops cleanly" systemctl stop postwarden-controller
check "dpkg --purge removes both" dpkg --purge postwarden-agent postwarden-controller
check "the controller's state is gone after purge" test ! -e /var/lib/postwarden-controller
check "Postfix keeps running with what the agent made" \
  bash -c 'systemctl is-active postfix@-.service && test "$(postconf -h smtpd_tls_auth_only)" = yes'
