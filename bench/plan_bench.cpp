// Parse + plan of policies/smtp-auth-hardening.yaml against main.cf files of realistic and
// large size. Run: build/bench/plan_bench (see docs/performance.md). Not a test.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "agent/params/parameter_catalog.h"
#include "agent/planner/planner.h"
#include "agent/policy/baseline_loader.h"
#include "agent/postfix/main_cf_document.h"

namespace {

using namespace postwarden::agent;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const std::string kSource = POSTWARDEN_SOURCE_DIR;

std::string policyText() { return readFile(kSource + "/policies/smtp-auth-hardening.yaml"); }
// Debian's main.cf.proto is byte-identical to the package's main.cf.dist.
std::string mainCfProto() { return readFile("/usr/share/postfix/main.cf.dist"); }
std::string masterCf() { return readFile("/usr/share/postfix/master.cf.dist"); }

// 10,000 lines: settings, comments and continuation lines in Debian's proportions.
std::string largeMainCf() {
  std::string text;
  for (int i = 0; i < 2500; ++i) {
    text += "# comment line " + std::to_string(i) + " explaining the next parameter\n";
    text += "custom_parameter_" + std::to_string(i) + " = value_" + std::to_string(i) + "\n";
    text += "smtpd_client_restrictions_" + std::to_string(i) + " = permit_mynetworks,\n";
    text += "    reject_unauth_destination\n";
  }
  text += "smtpd_tls_cert_file = /etc/ssl/certs/mail.pem\nsmtpd_tls_key_file = /etc/ssl/mail.key\n";
  return text;
}

void planAgainst(benchmark::State& state, const std::string& main_cf) {
  const std::string policy = policyText();
  const std::string master = masterCf();
  const params::ParameterCatalog catalog = params::ParameterCatalog::builtin();
  for (auto _ : state) {
    auto baseline = policy::loadBaseline(policy, "smtp-auth-hardening.yaml");
    auto plan = planner::makePlan(*baseline, {main_cf, master}, catalog);
    benchmark::DoNotOptimize(plan);
  }
  state.counters["lines"] = static_cast<double>(std::count(main_cf.begin(), main_cf.end(), '\n'));
}

void BM_PlanMainCfProto(benchmark::State& state) { planAgainst(state, mainCfProto()); }
BENCHMARK(BM_PlanMainCfProto)->Unit(benchmark::kMicrosecond);

void BM_PlanLargeMainCf(benchmark::State& state) { planAgainst(state, largeMainCf()); }
BENCHMARK(BM_PlanLargeMainCf)->Unit(benchmark::kMicrosecond);

void BM_ParseLargeMainCf(benchmark::State& state) {
  const std::string text = largeMainCf();
  for (auto _ : state) {
    auto doc = postfix::MainCfDocument::parse(text);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseLargeMainCf)->Unit(benchmark::kMicrosecond);

void BM_LoadBaseline(benchmark::State& state) {
  const std::string policy = policyText();
  for (auto _ : state) {
    auto baseline = policy::loadBaseline(policy, "smtp-auth-hardening.yaml");
    benchmark::DoNotOptimize(baseline);
  }
}
BENCHMARK(BM_LoadBaseline)->Unit(benchmark::kMicrosecond);

void BM_BuiltinCatalog(benchmark::State& state) {
  for (auto _ : state) {
    auto catalog = params::ParameterCatalog::builtin();
    benchmark::DoNotOptimize(catalog);
  }
}
BENCHMARK(BM_BuiltinCatalog)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
