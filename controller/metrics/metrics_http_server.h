// MetricsHttpServer: the controller's Prometheus scrape endpoint (`serve --metrics-listen`).
// Plain HTTP/1.1 on its own thread (Boost.Beast over one Asio io_context): GET or HEAD
// /metrics answers 200 with `render()` in the text exposition format, any other path 404, any
// other method 405; a request that does not parse gets 400 and the connection is closed. A
// connection idle or slow for 10 s is closed, requests are limited to 8 KiB of headers and no
// body, and at most 32 connections are open at once (more are closed at accept), so garbage on
// the socket costs a little and stops nothing. No TLS and no authentication: listen on
// loopback or a management network (docs/metrics.md).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace postwarden::controller::telemetry {

class MetricsHttpServer {
 public:
  using Render = std::function<std::string()>;

  // `listen`: "HOST:PORT" with a numeric IPv4 or IPv6 address ("[::1]:9464") or localhost;
  // port 0 picks a free port. InvalidArgument for a bad address, Unavailable when it cannot
  // bind. `render` is called on the server's thread, once per scrape.
  static Result<std::unique_ptr<MetricsHttpServer>> start(const std::string& listen, Render render);
  ~MetricsHttpServer();  // stop()

  int port() const;
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit MetricsHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "HOST:PORT" -> host and port. InvalidArgument when malformed.
Result<std::pair<std::string, int>> splitHostPort(const std::string& listen);

}  // namespace postwarden::controller::telemetry
