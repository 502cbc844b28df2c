#include "agent/verify/scan.h"

#include <algorithm>
#include <cctype>

#include "agent/tls/certificate_check.h"

namespace postwarden::agent::verify {
namespace {

using Verdict = ScanFinding::Verdict;

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

void add(std::vector<ScanFinding>& findings, std::string id, Verdict verdict, std::string title,
         std::string detail) {
  findings.push_back({std::move(id), verdict, std::move(title), std::move(detail)});
}

void scanCleartextAuth(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  const std::vector<std::string>& offered = result.before_tls.auth_mechanisms;
  std::vector<std::string> cleartext;
  for (const char* mechanism : {"PLAIN", "LOGIN"}) {
    if (offersMechanism(result.before_tls, mechanism)) cleartext.emplace_back(mechanism);
  }
  if (!cleartext.empty()) {
    add(findings, "smtp-cleartext-auth", Verdict::kFail, "Cleartext AUTH offered before STARTTLS",
        "The server advertises AUTH " + joined(offered, " ") + " on the unencrypted connection; " +
            joined(cleartext, " and ") +
            " send the password only base64-encoded, readable by anyone on the path. "
            "Scanners report this as Nessus plugin 54582 \"SMTP Service Cleartext Login "
            "Permitted\". Fix: smtpd_tls_auth_only = yes.");
  } else if (!offered.empty()) {
    add(findings, "smtp-cleartext-auth", Verdict::kWarn, "AUTH offered before STARTTLS",
        "The server advertises AUTH " + joined(offered, " ") +
            " on the unencrypted connection. These mechanisms do not reveal the password "
            "directly, but the login name and session are still exposed; prefer "
            "smtpd_tls_auth_only = yes.");
  } else {
    add(findings, "smtp-cleartext-auth", Verdict::kPass, "No AUTH offered before STARTTLS",
        "EHLO on the unencrypted connection advertises no AUTH mechanism.");
  }

  if (!result.plain_auth_before_tls_refused.has_value()) {
    add(findings, "smtp-cleartext-auth-attempt", Verdict::kInfo,
        "Cleartext AUTH PLAIN attempt not tried",
        "The probe did not send AUTH PLAIN before STARTTLS.");
  } else if (*result.plain_auth_before_tls_refused) {
    add(findings, "smtp-cleartext-auth-attempt", Verdict::kPass,
        "Cleartext AUTH PLAIN attempt refused",
        "AUTH PLAIN sent before STARTTLS with a dummy credential was refused.");
  } else {
    add(findings, "smtp-cleartext-auth-attempt", Verdict::kFail,
        "Cleartext AUTH PLAIN attempt not refused",
        "AUTH PLAIN sent before STARTTLS with a dummy credential was processed by the server "
        "(it was checked rather than refused), so clients can send passwords in cleartext "
        "even if EHLO hides AUTH.");
  }
}

void scanTls(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  if (!result.starttls_offered) {
    add(findings, "smtp-starttls-offered", Verdict::kFail, "STARTTLS not offered",
        "EHLO does not advertise STARTTLS, so all mail to and from this listener travels "
        "unencrypted. Fix: smtpd_tls_security_level = may (or encrypt) with a certificate.");
    return;
  }
  add(findings, "smtp-starttls-offered", Verdict::kPass, "STARTTLS offered",
      "EHLO advertises STARTTLS.");
  if (!result.tls_established) {
    add(findings, "smtp-starttls-handshake", Verdict::kFail, "STARTTLS does not work",
        "STARTTLS is advertised but TLS could not be established: " +
            (result.tls_error.empty() ? std::string("the probe stopped before trying")
                                      : result.tls_error) +
            ". Clients that try STARTTLS will fail or fall back to cleartext.");
    return;
  }
  add(findings, "smtp-starttls-handshake", Verdict::kPass, "STARTTLS handshake succeeds",
      "Negotiated " + result.tls_version + " with " + result.tls_cipher + ".");

  const bool modern = result.tls_version == "TLSv1.3" || result.tls_version == "TLSv1.2";
  add(findings, "smtp-tls-version", modern ? Verdict::kPass : Verdict::kFail,
      modern ? "Modern TLS version negotiated" : "Deprecated TLS version negotiated",
      "The handshake negotiated " + result.tls_version +
          (modern ? "."
                  : "; TLS 1.0 and 1.1 are deprecated (RFC 8996). Fix: "
                    "smtpd_tls_protocols = >=TLSv1.2.") +
          " Only the best version both sides support is seen; older versions may still be "
          "enabled.");
}

// The chain against the trust store, in the terms of Nessus 57582 and 51192.
void scanChain(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  if (!result.certificate_chain) return;
  const tls::ChainCheck& chain = *result.certificate_chain;
  using Problem = tls::ChainCheck::Problem;
  const std::string served = std::to_string(chain.served) + " certificate(s) sent";
  switch (chain.problem) {
    case Problem::kNone:
      add(findings, "smtp-certificate-chain", Verdict::kPass, "Certificate chain trusted",
          "The chain the server sends (" + served + ") leads to a trusted root.");
      return;
    case Problem::kSelfSigned:
      add(findings, "smtp-certificate-chain", Verdict::kFail, "Self-signed certificate",
          "The certificate is its own issuer (" + result.peer_certificate->issuer +
              "); scanners report Nessus 57582 \"SSL Self-Signed Certificate\". Opportunistic "
              "TLS between MX hosts still encrypts with it, but DANE-less verifying senders, "
              "MTA-STS and mail clients refuse it. Fix: a CA-issued certificate.");
      return;
    case Problem::kIncomplete:
      add(findings, "smtp-certificate-chain", Verdict::kFail, "Certificate chain incomplete",
          "An issuer is missing from the chain the server sends (" + served + "): " + chain.detail +
              ". Scanners report Nessus 51192 \"SSL Certificate Cannot Be Trusted\". Fix: "
              "serve the leaf followed by its intermediates (smtpd_tls_chain_files, or the "
              "intermediates appended to smtpd_tls_cert_file).");
      return;
    case Problem::kUntrustedRoot:
    case Problem::kOther:
      add(findings, "smtp-certificate-chain", Verdict::kFail, "Certificate not trusted",
          "The chain (" + served + ") does not lead to a trusted root: " + chain.detail +
              ". Scanners report Nessus 51192 \"SSL Certificate Cannot Be Trusted\".");
      return;
  }
}

void scanCertificate(const ProbeResult& result, std::chrono::system_clock::time_point now,
                     std::vector<ScanFinding>& findings) {
  if (!result.tls_established) return;
  if (!result.peer_certificate) {
    add(findings, "smtp-certificate-name", Verdict::kFail, "No server certificate",
        "The TLS handshake completed without a server certificate.");
    return;
  }
  const tls::CertificateInfo& certificate = *result.peer_certificate;
  const std::string names = certificate.dns_names.empty() ? "CN " + certificate.subject_common_name
                                                          : joined(certificate.dns_names, ", ");
  if (!result.certificate_name_matches.has_value()) {
    add(findings, "smtp-certificate-name", Verdict::kInfo, "Certificate names",
        "The certificate names: " + names + " (no expected name was given).");
  } else if (*result.certificate_name_matches) {
    add(findings, "smtp-certificate-name", Verdict::kPass, "Certificate matches the host name",
        "The certificate names: " + names + ".");
  } else {
    add(findings, "smtp-certificate-name", Verdict::kFail,
        "Certificate does not match the host name",
        "The certificate names: " + names +
            ", not the expected host name. Clients that verify names (DANE, MTA-STS) will "
            "refuse it.");
  }

  if (now < certificate.not_before) {
    add(findings, "smtp-certificate-expiry", Verdict::kFail, "Certificate not yet valid",
        "The certificate is valid from " + tls::formatUtc(certificate.not_before) + ".");
  } else if (now > certificate.not_after) {
    add(findings, "smtp-certificate-expiry", Verdict::kFail, "Certificate expired",
        "The certificate expired on " + tls::formatUtc(certificate.not_after) +
            "; scanners report Nessus 15901 \"SSL Certificate Expiry\".");
  } else if (certificate.not_after - now < kCertificateExpiryWarning) {
    const auto days =
        std::chrono::duration_cast<std::chrono::hours>(certificate.not_after - now).count() / 24;
    add(findings, "smtp-certificate-expiry", Verdict::kWarn, "Certificate expires soon",
        "The certificate expires on " + tls::formatUtc(certificate.not_after) + ", in " +
            std::to_string(days) + (days == 1 ? " day" : " days") +
            " (Nessus 42981 \"SSL Certificate Expiry - Future Expiry\").");
  } else {
    add(findings, "smtp-certificate-expiry", Verdict::kPass, "Certificate is within its validity",
        "The certificate is valid until " + tls::formatUtc(certificate.not_after) + ".");
  }

  scanChain(result, findings);
}

// The extra handshakes scan() asks for, judged the way scanners report them.
void scanTlsAttempts(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  struct Legacy {
    const char* offered;
    const char* id;
    const char* plugin;
  };
  for (const Legacy& legacy : {Legacy{"TLSv1", "smtp-tls-1.0",
                                      "Nessus 104743 \"TLS Version 1.0 "
                                      "Protocol Detection\""},
                               Legacy{"TLSv1.1", "smtp-tls-1.1",
                                      "Nessus 157288 \"TLS Version 1.1 Deprecated Protocol\""}}) {
    const TlsAttempt* attempt = findTlsAttempt(result, legacy.offered);
    if (attempt == nullptr) continue;
    const std::string version = legacy.offered;
    if (attempt->established) {
      add(findings, legacy.id, Verdict::kFail, version + " accepted",
          "A handshake offering only " + version + " succeeded (" + attempt->cipher +
              "); scanners report " + legacy.plugin +
              ". Fix: smtpd_tls_protocols and smtpd_tls_mandatory_protocols = >=TLSv1.2 "
              "(policies/tls-protocols.yaml).");
    } else if (attempt->reached_handshake) {
      add(findings, legacy.id, Verdict::kPass, version + " refused",
          "A handshake offering only " + version +
              " (client security level 0) failed: " + attempt->error + ".");
    } else {
      add(findings, legacy.id, Verdict::kInfo, version + " not tested",
          "The " + version + " handshake could not be tried: " + attempt->error + ".");
    }
  }
  for (const TlsAttempt& a : result.tls_attempts) {
    if (a.offered != "aNULL") continue;
    if (a.established) {
      add(findings, "smtp-tls-anonymous-cipher", Verdict::kFail, "Anonymous cipher suite accepted",
          "A handshake offering only anonymous (aNULL) suites succeeded with " + a.cipher +
              ": no server authentication, open to an active man in the middle. Scanners "
              "report Nessus 31705 \"SSL Anonymous Cipher Suites Supported\". Fix: "
              "smtpd_tls_exclude_ciphers = aNULL, ... (policies/tls-ciphers.yaml).");
    } else if (a.reached_handshake) {
      add(findings, "smtp-tls-anonymous-cipher", Verdict::kPass, "Anonymous cipher suites refused",
          "A handshake offering only anonymous (aNULL) suites failed: " + a.error + ".");
    }
  }
}

// Logjam: the group of a handshake offering only DHE suites.
void scanDhGroup(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  const TlsAttempt* dhe = findTlsAttempt(result, "DHE");
  if (dhe == nullptr) return;
  const TlsAttempt& a = *dhe;
  if (a.established && a.key_exchange == "DH" && a.key_exchange_bits <= 1024) {
    add(findings, "smtp-tls-dh-group", Verdict::kFail, "Weak Diffie-Hellman group",
        "A handshake offering only DHE suites used a " + std::to_string(a.key_exchange_bits) +
            "-bit group (" + a.cipher +
            "); scanners report Nessus 83875 \"SSL/TLS Diffie-Hellman Modulus <= 1024 Bits "
            "(Logjam)\". Fix: smtpd_tls_dh1024_param_file empty (Postfix 3.1 and later "
            "use a 2048-bit group) or a 2048-bit file (policies/tls-ciphers.yaml).");
  } else if (a.established) {
    add(findings, "smtp-tls-dh-group", Verdict::kPass, "Diffie-Hellman group is strong",
        "A handshake offering only DHE suites used a " + std::to_string(a.key_exchange_bits) +
            "-bit " + a.key_exchange + " group (" + a.cipher + ").");
  } else if (a.reached_handshake) {
    add(findings, "smtp-tls-dh-group", Verdict::kPass, "No DHE suites accepted",
        "A handshake offering only DHE suites failed: " + a.error + ".");
  }
}

// Nessus 10262 "MTA Open Mail Relaying Allowed", judged only where the probe was an outside
// client: through XCLIENT, or from an address that is not loopback.
void scanRelay(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  if (!result.relay) return;
  const RelayResult& relay = *result.relay;
  const std::string as =
      relay.xclient_accepted ? " (presented as an outside client with XCLIENT)" : "";
  if (relay.rcpt_code == 0) {
    add(findings, "smtp-open-relay", Verdict::kInfo, "Relay test not completed",
        "The relay test stopped before RCPT: " + relay.rcpt_reply + ".");
  } else if (relay.refused()) {
    add(findings, "smtp-open-relay", Verdict::kPass, "Relaying refused",
        "RCPT TO an outside domain" + as + " was answered '" + relay.rcpt_reply + "'.");
  } else if (relay.xclient_accepted || !relay.from_loopback) {
    add(findings, "smtp-open-relay", Verdict::kFail, "Open relay",
        "RCPT TO an outside domain" + as + " was accepted ('" + relay.rcpt_reply +
            "'): anyone can send mail through this server. Scanners report Nessus 10262 \"MTA "
            "Open Mail Relaying Allowed\". Fix: reject_unauth_destination in "
            "smtpd_relay_restrictions (policies/open-relay.yaml)." +
            (relay.xclient_accepted ? ""
                                    : " (If this scanning host is in the server's "
                                      "$mynetworks, that is what it allows.)"));
  } else {
    add(findings, "smtp-open-relay", Verdict::kInfo, "Relay test inconclusive from loopback",
        "RCPT TO an outside domain was accepted ('" + relay.rcpt_reply +
            "'), but from loopback, which is in $mynetworks: an outside client may still be "
            "refused. The listener does not let the probe present an outside address (XCLIENT, "
            "smtpd_authorized_xclient_hosts); scan from another host.");
  }
}

void scanCommands(const ProbeResult& result, std::vector<ScanFinding>& findings) {
  if (result.vrfy_code) {
    if (*result.vrfy_code == 502) {
      add(findings, "smtp-vrfy", Verdict::kPass, "VRFY disabled",
          "VRFY root was answered '" + result.vrfy_reply + "'.");
    } else {
      add(findings, "smtp-vrfy", Verdict::kFail, "VRFY enabled",
          "VRFY root was answered '" + result.vrfy_reply +
              "': the server helps to enumerate mailbox names (Nessus 10249 \"EXPN and VRFY "
              "Commands\"; OpenVAS flags the 252 answer too). Fix: disable_vrfy_command = yes "
              "(policies/vrfy.yaml).");
    }
  }
  if (result.banner.empty()) return;
  std::string lowered = result.banner;
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> named;
  for (const char* word : {"postfix", "debian", "ubuntu"}) {
    if (lowered.find(word) != std::string::npos) named.emplace_back(word);
  }
  if (named.empty()) {
    add(findings, "smtp-banner", Verdict::kPass, "Banner names no software",
        "The greeting is '" + result.banner + "'.");
  } else {
    add(findings, "smtp-banner", Verdict::kWarn, "Banner discloses software",
        "The greeting '" + result.banner + "' names " + joined(named, ", ") +
            "; scanners report the product as information disclosure. Fix: smtpd_banner = "
            "$myhostname ESMTP (policies/banner.yaml).");
  }
}

}  // namespace

void requestScanChecks(ProbeTarget& target) {
  target.try_vrfy = true;
  target.tls_attempts = {"TLSv1", "TLSv1.1", "aNULL", "DHE"};
  target.check_certificate_chain = true;
  target.relay_test = RelayTest{};
}

std::string_view verdictName(ScanFinding::Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kWarn:
      return "WARN";
    case Verdict::kInfo:
      return "INFO";
  }
  return "INFO";
}

std::vector<ScanFinding> scanFindings(const ProbeResult& result,
                                      std::chrono::system_clock::time_point now) {
  std::vector<ScanFinding> findings;
  if (!result.connected || result.banner_code != 220) {
    add(findings, "smtp-service", Verdict::kFail, "SMTP service not available",
        !result.connected
            ? "Could not connect: " + result.failure
            : "The server greeted with code " + std::to_string(result.banner_code) +
                  " instead of 220" + (result.failure.empty() ? "." : ": " + result.failure));
    return findings;
  }
  add(findings, "smtp-service", Verdict::kPass, "SMTP service answers",
      "The server greeted with 220.");
  if (!result.failure.empty()) {
    add(findings, "smtp-probe-complete", Verdict::kFail, "Probe did not complete",
        "The conversation stopped early: " + result.failure +
            ". Later checks are missing or based on partial data.");
  }
  scanCleartextAuth(result, findings);
  scanCommands(result, findings);
  scanRelay(result, findings);
  scanTls(result, findings);
  scanTlsAttempts(result, findings);
  scanDhGroup(result, findings);
  scanCertificate(result, now, findings);
  return findings;
}

}  // namespace postwarden::agent::verify
