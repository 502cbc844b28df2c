#include "agent/verify/expectation.h"

#include <algorithm>

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

}  // namespace

Verdict evaluate(const ProbeResult& result, const policy::ProbeExpectation& expectation) {
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
  if (result.login_succeeded == false) {
    failures.push_back("login with the probe credentials failed after STARTTLS");
  }
  if (result.message_accepted == false) failures.push_back("the test message was not accepted");

  verdict.passed = failures.empty();
  return verdict;
}

}  // namespace postwarden::agent::verify
