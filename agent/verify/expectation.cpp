#include "agent/verify/expectation.h"

#include <algorithm>
#include <cctype>

#include "agent/tls/certificate_check.h"

namespace postwarden::agent::verify {
namespace {

std::string upper(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
  return result;
}

std::string joined(const std::vector<std::string>& items, std::string_view separator = " ") {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

bool listsAny(const std::vector<std::string>& mechanisms) {
  return std::find(mechanisms.begin(), mechanisms.end(), "*") != mechanisms.end();
}

void checkAuthBeforeTls(const ProbeResult& result, const policy::ProbeExpectation& expectation,
                        std::vector<std::string>& failures) {
  const std::vector<std::string>& forbidden = expectation.forbid_auth_before_tls;
  if (forbidden.empty()) return;
  const std::vector<std::string>& offered = result.before_tls.auth_mechanisms;
  if (listsAny(forbidden)) {
    if (!offered.empty()) failures.push_back("AUTH " + joined(offered) + " offered before TLS");
  } else {
    for (const std::string& mechanism : forbidden) {
      if (offersMechanism(result.before_tls, mechanism)) {
        failures.push_back("AUTH " + upper(mechanism) + " offered before TLS");
      }
    }
  }
  const bool plain_forbidden =
      listsAny(forbidden) || std::any_of(forbidden.begin(), forbidden.end(),
                                         [](const auto& m) { return upper(m) == "PLAIN"; });
  if (plain_forbidden && result.plain_auth_before_tls_refused == false) {
    failures.push_back(
        "AUTH PLAIN accepted before TLS: the server processed a cleartext AUTH PLAIN attempt "
        "instead of refusing it");
  }
}

void checkAuthAfterTls(const ProbeResult& result, const policy::ProbeExpectation& expectation,
                       std::vector<std::string>& failures) {
  const std::vector<std::string>& required = expectation.require_auth_after_tls;
  if (required.empty()) return;
  if (!result.tls_established) {
    failures.push_back("cannot check AUTH after STARTTLS (" + joined(required) +
                       " required): TLS was not established");
    return;
  }
  if (listsAny(required)) {
    if (result.after_tls.auth_mechanisms.empty()) {
      failures.push_back("no AUTH mechanism offered after STARTTLS");
    }
    return;
  }
  for (const std::string& mechanism : required) {
    if (!offersMechanism(result.after_tls, mechanism)) {
      failures.push_back("AUTH " + upper(mechanism) + " not offered after STARTTLS");
    }
  }
}

void checkCertificateName(const ProbeResult& result, const std::string& name,
                          std::vector<std::string>& failures) {
  if (name.starts_with('$')) {
    failures.push_back("certificate_name '" + name +
                       "' names a parameter that neither main.cf nor the service sets; its "
                       "default depends on the host (myhostname comes from the system's host "
                       "name), which Postwarden does not guess: set it in main.cf, or write the "
                       "certificate's host name in the baseline");
    return;
  }
  if (!result.tls_established) {
    failures.push_back("cannot check the certificate name '" + name + "': TLS was not established");
    return;
  }
  if (!result.peer_certificate) {
    failures.push_back("the server presented no certificate to check against '" + name + "'");
    return;
  }
  const tls::CertificateInfo& certificate = *result.peer_certificate;
  if (tls::matchesName(certificate, name)) return;
  const std::string names = certificate.dns_names.empty() ? "CN " + certificate.subject_common_name
                                                          : joined(certificate.dns_names, ", ");
  failures.push_back("certificate is not valid for '" + name + "' (it names: " + names + ")");
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void checkTlsAttempts(const ProbeResult& result, const policy::ProbeExpectation& expectation,
                      std::vector<std::string>& failures) {
  if (expectation.tls_refused.empty() && expectation.tls_accepted.empty()) return;
  // No STARTTLS: nothing old can be negotiated, and whether TLS must be there at all is the
  // `starttls` rule's to judge.
  if (!result.starttls_offered) return;
  for (const std::string& offered : expectation.tls_refused) {
    const TlsAttempt* a = findTlsAttempt(result, offered);
    if (a == nullptr) {
      failures.push_back("the " + offered + " handshake was not attempted");
    } else if (a->established) {
      failures.push_back("a handshake offering only " + offered + " succeeded (" + a->version +
                         " " + a->cipher + ")");
    } else if (!a->reached_handshake) {
      failures.push_back("the " + offered + " handshake could not be tried: " + a->error);
    }
  }
  for (const std::string& offered : expectation.tls_accepted) {
    const TlsAttempt* a = findTlsAttempt(result, offered);
    if (a == nullptr) {
      failures.push_back("the " + offered + " handshake was not attempted");
    } else if (!a->established) {
      failures.push_back("a handshake offering only " + offered + " failed: " + a->error);
    } else if (offered.starts_with("TLS") && a->version != offered) {
      failures.push_back("a handshake offering only " + offered + " negotiated " + a->version);
    }
  }
}

void checkCertificateValidity(const ProbeResult& result, int days,
                              std::chrono::system_clock::time_point now,
                              std::vector<std::string>& failures) {
  if (!result.tls_established || !result.peer_certificate) {
    failures.push_back("cannot check the certificate's validity: no certificate was received");
    return;
  }
  const tls::CertificateInfo& certificate = *result.peer_certificate;
  if (now < certificate.not_before) {
    failures.push_back("the certificate is not valid before " +
                       tls::formatUtc(certificate.not_before));
  } else if (now > certificate.not_after) {
    failures.push_back("the certificate expired on " + tls::formatUtc(certificate.not_after));
  } else if (certificate.not_after - now < std::chrono::hours(24) * days) {
    failures.push_back("the certificate expires on " + tls::formatUtc(certificate.not_after) +
                       ", within " + std::to_string(days) + " days");
  }
}

void checkCertificateChain(const ProbeResult& result, std::vector<std::string>& failures) {
  if (!result.certificate_chain) {
    failures.push_back("cannot check the certificate chain: no certificate was received");
    return;
  }
  const tls::ChainCheck& chain = *result.certificate_chain;
  if (chain.trusted()) return;
  failures.push_back("the certificate chain is " +
                     std::string(tls::chainProblemName(chain.problem)) + " (" +
                     std::to_string(chain.served) + " certificate(s) sent): " + chain.detail);
}

void checkDhGroup(const ProbeResult& result, int min_bits, std::vector<std::string>& failures) {
  if (!result.starttls_offered) return;
  const TlsAttempt* a = findTlsAttempt(result, "DHE");
  if (a == nullptr) {
    failures.push_back("the DHE handshake was not attempted");
  } else if (a->established && a->key_exchange == "DH" && a->key_exchange_bits < min_bits) {
    failures.push_back("a handshake offering only DHE suites used a " +
                       std::to_string(a->key_exchange_bits) + "-bit DH group (" + a->cipher +
                       "), less than " + std::to_string(min_bits));
  } else if (!a->established && !a->reached_handshake) {
    failures.push_back("the DHE handshake could not be tried: " + a->error);
  }
}

}  // namespace

void requestChecksFor(const policy::ProbeExpectation& expectation, ProbeTarget& target) {
  if (expectation.vrfy_refused) target.try_vrfy = true;
  if (expectation.certificate_chain_trusted) target.check_certificate_chain = true;
  if (expectation.dh_min_bits && std::find(target.tls_attempts.begin(), target.tls_attempts.end(),
                                           "DHE") == target.tls_attempts.end()) {
    target.tls_attempts.push_back("DHE");
  }
  for (const auto* list : {&expectation.tls_refused, &expectation.tls_accepted}) {
    for (const std::string& offered : *list) {
      if (std::find(target.tls_attempts.begin(), target.tls_attempts.end(), offered) ==
          target.tls_attempts.end()) {
        target.tls_attempts.push_back(offered);
      }
    }
  }
}

Verdict evaluate(const ProbeResult& result, const policy::ProbeExpectation& expectation,
                 std::chrono::system_clock::time_point now) {
  Verdict verdict;
  std::vector<std::string>& failures = verdict.failures;
  if (!result.connected) {
    failures.push_back("could not connect: " + result.failure);
    return verdict;
  }
  if (result.banner_code != 220) {
    failures.push_back(result.banner_code == 0
                           ? "no SMTP banner: " + result.failure
                           : "banner code was " + std::to_string(result.banner_code) +
                                 ", expected 220");
    return verdict;
  }
  if (!result.failure.empty()) failures.push_back("probe did not complete: " + result.failure);

  if (!result.starttls_offered) {
    if (expectation.starttls == policy::StartTls::kRequired) {
      failures.push_back("STARTTLS not offered");
    }
  } else if (!result.tls_established) {
    failures.push_back("STARTTLS offered but TLS was not established" +
                       (result.tls_error.empty() ? std::string() : ": " + result.tls_error));
  }

  checkAuthBeforeTls(result, expectation, failures);
  checkAuthAfterTls(result, expectation, failures);
  if (expectation.certificate_name) {
    checkCertificateName(result, *expectation.certificate_name, failures);
  }
  if (expectation.vrfy_refused) {
    if (!result.vrfy_code) {
      failures.push_back("VRFY was not answered");
    } else if (*result.vrfy_code != 502) {
      failures.push_back("VRFY root was answered '" + result.vrfy_reply +
                         "', not 502 (disable_vrfy_command = yes)");
    }
  }
  for (const std::string& word : expectation.banner_must_not_contain) {
    if (lowered(result.banner).find(lowered(word)) != std::string::npos) {
      failures.push_back("the banner '" + result.banner + "' names '" + word + "'");
    }
  }
  if (expectation.certificate_valid_days) {
    checkCertificateValidity(result, *expectation.certificate_valid_days, now, failures);
  }
  if (expectation.certificate_chain_trusted) checkCertificateChain(result, failures);
  checkTlsAttempts(result, expectation, failures);
  if (expectation.dh_min_bits) checkDhGroup(result, *expectation.dh_min_bits, failures);
  if (result.login_succeeded == false) {
    failures.push_back("login with the probe credentials failed after STARTTLS");
  }
  if (result.message_accepted == false) failures.push_back("the test message was not accepted");

  verdict.passed = failures.empty();
  return verdict;
}

}  // namespace postwarden::agent::verify
