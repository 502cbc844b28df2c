// End-to-end: the fleet's metrics as Prometheus sees them. A real controller serving
// --metrics-listen, two agent daemons (each on its own Postfix sandbox) writing their
// node_exporter textfiles, and a real Prometheus (Debian's package) in a temp directory on a
// free loopback port scraping the controller every second. The test asks Prometheus's HTTP API
// for the agent counts and the report rate, and runs `promtool check metrics` on the
// controller's /metrics and on both agents' textfiles. Everything started is stopped by pid
// in TearDown, also when the test fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kPromtool[] = "/usr/bin/promtool";

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A port nobody listens on now (bound and released; Prometheus binds it right after).
int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct HttpResponse {
  int status = 0;  // 0: no connection
  std::string body;
};

// GET over a fresh loopback connection, HTTP/1.0 (no chunking), 10 s timeout.
HttpResponse httpGet(int port, const std::string& target) {
  HttpResponse response;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return response;
  }
  std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buffer[8192];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) raw.append(buffer, n);
  ::close(fd);
  if (raw.size() < 12) return response;
  response.status = std::atoi(raw.substr(9, 3).c_str());
  size_t body = raw.find("\r\n\r\n");
  if (body != std::string::npos) response.body = raw.substr(body + 4);
  return response;
}

std::string urlEncode(const std::string& text) {
  std::string out;
  char hex[4];
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// Runs argv (no shell) with `input_file` as standard input; exit code, output in `output`.
int runWithInput(const std::vector<std::string>& argv, const std::string& input_file,
                 std::string* output) {
  char out_template[] = "/tmp/postwarden-metrics-out-XXXXXX";
  int out_fd = ::mkstemp(out_template);
  if (out_fd < 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    int in_fd = ::open(input_file.c_str(), O_RDONLY);
    if (in_fd < 0) ::_exit(126);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out_fd);
  if (output) *output = readText(out_template);
  ::unlink(out_template);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `promtool check metrics` on a file: exit 0 and no lint problem.
::testing::AssertionResult promtoolAccepts(const std::string& file) {
  std::string output;
  int code = runWithInput({kPromtool, "check", "metrics"}, file, &output);
  if (code == 0 && output.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "promtool check metrics " << file << ": exit " << code << "\n"
         << output << "\n--- the file ---\n"
         << readText(file);
}

// The value of an instant query that returns one sample (a sum()), or nullopt.
std::optional<double> promQuery(int port, const std::string& query, std::string* raw = nullptr) {
  HttpResponse r = httpGet(port, "/api/v1/query?query=" + urlEncode(query));
  if (raw) *raw = r.body;
  if (r.status != 200 || r.body.find("\"status\":\"success\"") == std::string::npos) {
    return std::nullopt;
  }
  size_t value = r.body.find("\"value\":[");
  if (value == std::string::npos) return std::nullopt;
  size_t quote = r.body.find('"', r.body.find(',', value));
  if (quote == std::string::npos) return std::nullopt;
  size_t end = r.body.find('"', quote + 1);
  return std::strtod(r.body.substr(quote + 1, end - quote - 1).c_str(), nullptr);
}

class MetricsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(requirePostfix());
    ASSERT_TRUE(fs::exists(kPrometheus) && fs::exists(kPromtool))
        << "Debian's prometheus package is needed (script/bootstrap installs it)";
    char pattern[] = "/tmp/postwarden-metrics-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ + "/textfiles");
    Result<std::unique_ptr<Controller>> controller =
        Controller::start(dir_, {"--metrics-listen", "127.0.0.1:0"});
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
    ASSERT_GT(controller_->metricsPort(), 0) << "no metrics port in the port file";
  }

  void TearDown() override {
    if (prometheus_) prometheus_->stop();
    for (auto& a : agents_) EXPECT_EQ(a->stop(), 0) << a->id() << ":\n" << a->log();
    EXPECT_EQ(controller_ ? controller_->stop() : 0, 0) << controller_->log();
    if (HasFailure()) {
      if (controller_) std::cerr << "--- controller log ---\n" << controller_->log();
      for (auto& a : agents_) std::cerr << "--- agent " << a->id() << " log ---\n" << a->log();
      if (prometheus_) std::cerr << "--- prometheus log ---\n" << prometheus_->log();
    }
    prometheus_.reset();
    agents_.clear();
    controller_.reset();
    fs::remove_all(dir_);
  }

  // Prometheus scraping the controller every second, with its own storage in dir_.
  void startPrometheus() {
    prometheus_port_ = freePort();
    const std::string config = dir_ + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                             "  evaluation_interval: 1s\n"
                             "scrape_configs:\n  - job_name: postwarden\n    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << controller_->metricsPort() << "']\n";
    Result<std::unique_ptr<BackgroundProcess>> started = BackgroundProcess::start(
        {kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + dir_ + "/tsdb",
         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_), "--log.level=warn"},
        dir_ + "/prometheus.log");
    ASSERT_TRUE(started.ok()) << started.status().message();
    prometheus_ = std::move(started).value();
    ASSERT_TRUE(eventually([&] { return httpGet(prometheus_port_, "/-/ready").status == 200; },
                           std::chrono::seconds(60)))
        << "prometheus not ready:\n"
        << prometheus_->log();
  }

  FleetAgent& addAgent(const std::string& id) {
    Result<std::string> token = controller_->createToken({{"site", "e2e"}});
    EXPECT_TRUE(token.ok()) << token.status().message();
    Result<std::unique_ptr<FleetAgent>> agent =
        FleetAgent::enrollAndStart(*controller_, token.ok() ? *token : "",
                                   {.id = id,
                                    .labels = {{"role", "mx"}},
                                    .heartbeat_interval = "1s",
                                    .metrics_textfile = textfile(id)});
    EXPECT_TRUE(agent.ok()) << agent.status().message();
    if (!agent.ok()) throw std::runtime_error("agent did not start");
    agents_.push_back(std::move(agent).value());
    return *agents_.back();
  }

  std::string textfile(const std::string& id) const { return dir_ + "/textfiles/" + id + ".prom"; }

  // Polls the query until `accept` holds for its value; the last answer in `last`.
  bool queryUntil(const std::string& query, const std::function<bool(double)>& accept,
                  std::string* last, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return eventually(
        [&] {
          std::optional<double> v = promQuery(prometheus_port_, query, last);
          return v && accept(*v);
        },
        timeout);
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  std::vector<std::unique_ptr<FleetAgent>> agents_;
  std::unique_ptr<BackgroundProcess> prometheus_;
  int prometheus_port_ = 0;
};

TEST_F(MetricsE2eTest, PrometheusScrapesAgentCountsAndReportRate) {
  // The endpoint itself: the text format promtool accepts, 404 elsewhere.
  HttpResponse scrape = httpGet(controller_->metricsPort(), "/metrics");
  ASSERT_EQ(scrape.status, 200);
  std::ofstream(dir_ + "/controller.prom") << scrape.body;
  EXPECT_TRUE(promtoolAccepts(dir_ + "/controller.prom"));
  EXPECT_EQ(httpGet(controller_->metricsPort(), "/").status, 404);

  startPrometheus();
  ASSERT_FALSE(HasFatalFailure());
  std::string last;
  ASSERT_TRUE(queryUntil(
      "up{job=\"postwarden\"}", [](double v) { return v == 1; }, &last))
      << "the target is not up: " << last << "\n"
      << httpGet(prometheus_port_, "/api/v1/targets").body;

  addAgent("mx1.metrics.example");
  addAgent("mx2.metrics.example");
  EXPECT_TRUE(queryUntil(
      "sum(postwarden_agents{connection=\"connected\"})", [](double v) { return v == 2; }, &last))
      << last;

  // An assignment makes both agents repair and report: the reports show as a rate.
  std::string out;
  ASSERT_EQ(controller_->ctl({"baseline", "push", kHardening}, &out), 0) << out;
  size_t at = out.find("smtp-auth-hardening@");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string ref = out.substr(at, std::string("smtp-auth-hardening@").size() + 12);
  ASSERT_EQ(controller_->ctl(
                {"baseline", "assign", ref, "--selector", "role=mx", "--mode", "enforce"}, &out),
            0)
      << out;

  EXPECT_TRUE(queryUntil(
      "sum(postwarden_agents{compliance=\"compliant\",mode=\"enforce\","
      "connection=\"connected\"})",
      [](double v) { return v == 2; }, &last))
      << last;
  EXPECT_TRUE(queryUntil(
      "sum(postwarden_agents_by_baseline{baseline=\"smtp-auth-hardening\"})",
      [](double v) { return v == 2; }, &last))
      << last;
  std::string rate_raw;
  EXPECT_TRUE(queryUntil(
      "sum(rate(postwarden_reports_ingested_total{result=\"stored\"}[30s]))",
      [](double v) { return v > 0; }, &rate_raw))
      << rate_raw;
  EXPECT_TRUE(queryUntil(
      "sum(postwarden_report_commit_duration_seconds_count)", [](double v) { return v >= 2; },
      &last))
      << last;
  EXPECT_TRUE(queryUntil(
      "sum(postwarden_grpc_server_handled_total{grpc_method=\"AssignBaseline\","
      "grpc_code=\"OK\"})",
      [](double v) { return v == 1; }, &last))
      << last;
  EXPECT_TRUE(queryUntil(
      "sum(postwarden_store_size_bytes)", [](double v) { return v > 0; }, &last))
      << last;
  // Figures for the report (measured, not asserted beyond sanity).
  std::cout
      << "report rate (stored/s over 30s): "
      << promQuery(prometheus_port_,
                   "sum(rate(postwarden_reports_ingested_total{result=\"stored\"}[30s]))")
             .value_or(-1)
      << "\nscrape duration (s): "
      << promQuery(prometheus_port_, "scrape_duration_seconds{job=\"postwarden\"}").value_or(-1)
      << "\nsamples per scrape: "
      << promQuery(prometheus_port_, "scrape_samples_scraped{job=\"postwarden\"}").value_or(-1)
      << "\n";

  // The agents' textfiles: compliant after their repair, and valid for node_exporter.
  for (auto& agent : agents_) {
    const std::string file = textfile(agent->id());
    EXPECT_TRUE(eventually([&] {
      std::string text = readText(file);
      return text.find("postwarden_agent_compliance{state=\"compliant\"} 1\n") !=
                 std::string::npos &&
             text.find("postwarden_agent_baseline_info{baseline=\"smtp-auth-hardening\"") !=
                 std::string::npos;
    })) << file
        << ":\n"
        << readText(file);
    std::string text = readText(file);
    EXPECT_NE(text.find("postwarden_agent_changes_total{outcome=\"repaired\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("\npostwarden_agent_last_check_timestamp_seconds "), std::string::npos);
    EXPECT_NE(text.find("\npostwarden_agent_postfix_queue_messages{queue=\"deferred\"} 0\n"),
              std::string::npos)
        << "the sandbox's queue, counted";
    EXPECT_TRUE(promtoolAccepts(file));
  }
  // And the controller's /metrics once more, now with agents, reports and gRPC calls in it.
  scrape = httpGet(controller_->metricsPort(), "/metrics");
  ASSERT_EQ(scrape.status, 200);
  std::ofstream(dir_ + "/controller-after.prom") << scrape.body;
  EXPECT_TRUE(promtoolAccepts(dir_ + "/controller-after.prom"));
}

}  // namespace
}  // namespace postwarden::testing
