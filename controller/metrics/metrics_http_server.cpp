#include "controller/metrics/metrics_http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "common/logging.h"

namespace postwarden::controller::telemetry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.metrics"); }

constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr int kMaxConnections = 32;
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// One connection: requests read and answered in turn (keep-alive) until the peer closes, a
// request is malformed or the timeout passes. Owned by the shared_ptrs of its pending handlers.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const MetricsHttpServer::Render& render, std::atomic<int>& open)
      : stream_(std::move(socket)), render_(render), open_(open) {
    ++open_;
  }
  ~Connection() { --open_; }

  void read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(0);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

 private:
  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec) {  // garbage: say so once, then hang up
      http::response<http::string_body> bad{http::status::bad_request, 11};
      bad.set(http::field::content_type, "text/plain");
      bad.body() = "bad request\n";
      bad.keep_alive(false);
      return write(std::move(bad));
    }
    const auto& request = parser_->get();
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    std::string_view target(request.target().data(), request.target().size());
    target = target.substr(0, target.find('?'));
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response.result(http::status::method_not_allowed);
      response.set(http::field::allow, "GET, HEAD");
      response.set(http::field::content_type, "text/plain");
      response.body() = "method not allowed\n";
    } else if (target != "/metrics") {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain");
      response.body() = "not found; metrics are at /metrics\n";
    } else {
      response.result(http::status::ok);
      response.set(http::field::content_type, kContentType);
      response.body() = render_();
    }
    response.prepare_payload();
    if (request.method() == http::verb::head) response.body().clear();
    write(std::move(response));
  }

  void write(http::response<http::string_body> response) {
    response_ = std::move(response);
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->response_.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8 * 1024};
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
  const MetricsHttpServer::Render& render_;
  std::atomic<int>& open_;
};

}  // namespace

struct MetricsHttpServer::Impl {
  // Declared before the io_context: the connections its pending handlers own use them until
  // it is destroyed.
  Render render;
  std::atomic<int> open_connections{0};
  // Both reset by stop(), the acceptor first: that closes the listener and every connection.
  std::optional<asio::io_context> io{std::in_place, 1};
  std::optional<tcp::acceptor> acceptor{std::in_place, *io};
  std::thread thread;
  int port = 0;
  bool stopped = false;

  void accept() {
    acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (open_connections.load() >= kMaxConnections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Connection>(std::move(socket), render, open_connections)->read();
        }
      } else {
        log()->warn("metrics listener: accept failed: {}", ec.message());
      }
      accept();
    });
  }
};

Result<std::pair<std::string, int>> splitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return InvalidArgumentError("'" + listen + "' is not HOST:PORT");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = listen.substr(colon + 1);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("bad port in '" + listen + "'");
  }
  int port = std::stoi(port_text);
  if (port > 65535) return InvalidArgumentError("bad port in '" + listen + "'");
  return std::pair{host, port};
}

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(const std::string& listen,
                                                                    Render render) {
  PW_ASSIGN_OR_RETURN(auto host_port, splitHostPort(listen));
  auto [host, port] = host_port;
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("'" + host + "' is not a numeric address or localhost");
  auto impl = std::make_unique<Impl>();
  impl->render = std::move(render);
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + listen + ": " + ec.message());
  impl->port = impl->acceptor->local_endpoint().port();
  impl->accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    for (;;) {
      try {
        raw->io->run();
        return;
      } catch (const std::exception& e) {  // a handler threw (render out of memory): go on
        log()->error("metrics listener: {}", e.what());
      }
    }
  });
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(impl)));
}

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsHttpServer::~MetricsHttpServer() { stop(); }

int MetricsHttpServer::port() const { return impl_->port; }

void MetricsHttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->io->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The thread is gone: the listener is closed here, and the connections that pending
  // handlers own are destroyed (sockets closed) with the io_context.
  impl_->acceptor.reset();
  impl_->io.reset();
}

}  // namespace postwarden::controller::telemetry
