#include "agent/health/postqueue.h"

namespace postwarden::agent::health {
namespace {

// A minimal JSON reader: enough to walk one object and skip every value it does not need.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool atEnd() {
    skipSpace();
    return pos_ == text_.size();
  }
  bool consume(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() {
    skipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  // A string literal, unescaped only as far as the escapes postqueue writes (\" \\ \/ and
  // control escapes kept as their letter): the value is compared with plain words only.
  bool string(std::string& out) {
    if (!consume('"')) return false;
    out.clear();
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (pos_ >= text_.size()) return false;
        out += text_[pos_++];
        continue;
      }
      out += c;
    }
    return false;
  }
  bool skipValue(int depth = 0) {
    if (depth > 64) return false;
    const char c = peek();
    std::string ignored;
    if (c == '"') return string(ignored);
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (consume(close)) return true;
      while (true) {
        if (c == '{' && !(string(ignored) && consume(':'))) return false;
        if (!skipValue(depth + 1)) return false;
        if (consume(close)) return true;
        if (!consume(',')) return false;
      }
    }
    // A number, true, false or null.
    const size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
            text_[pos_] == '+' || text_[pos_] == '.')) {
      ++pos_;
    }
    return pos_ > start;
  }

 private:
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> queueNameOf(std::string_view line) {
  Reader r(line);
  const auto bad = [] { return InvalidArgumentError("not a postqueue -j record"); };
  if (!r.consume('{')) return bad();
  std::optional<std::string> queue;
  if (!r.consume('}')) {
    while (true) {
      std::string key;
      if (!r.string(key) || !r.consume(':')) return bad();
      if (key == "queue_name") {
        std::string value;
        if (!r.string(value)) return bad();
        queue = std::move(value);
      } else if (!r.skipValue()) {
        return bad();
      }
      if (r.consume('}')) break;
      if (!r.consume(',')) return bad();
    }
  }
  if (!r.atEnd()) return bad();
  if (!queue) return InvalidArgumentError("postqueue -j record without a queue_name");
  return *queue;
}

Result<QueueCounts> parsePostqueueJson(std::string_view output) {
  QueueCounts counts;
  int number = 0;
  while (!output.empty()) {
    const size_t eol = output.find('\n');
    std::string_view line = output.substr(0, eol);
    output.remove_prefix(eol == std::string_view::npos ? output.size() : eol + 1);
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Result<std::string> queue = queueNameOf(line);
    if (!queue.ok()) {
      return InvalidArgumentError("postqueue -j line " + std::to_string(number) + ": " +
                                  queue.status().message());
    }
    if (*queue == "deferred") {
      ++counts.deferred;
    } else if (*queue == "active") {
      ++counts.active;
    } else {
      ++counts.other;
    }
  }
  return counts;
}

Result<QueueCounts> readQueues(os::CommandRunner& commands, const std::string& config_dir,
                               std::chrono::milliseconds timeout) {
  const std::vector<std::string> argv = {"postqueue", "-c", config_dir, "-j"};
  PW_ASSIGN_OR_RETURN(os::CommandResult result, commands.run({.argv = argv, .timeout = timeout}));
  if (result.exit_code != 0) {
    std::string err = result.stderr_data.substr(0, result.stderr_data.find('\n'));
    return UnavailableError(os::describeCommand(argv) + " exited " +
                            std::to_string(result.exit_code) + (err.empty() ? "" : ": " + err));
  }
  return parsePostqueueJson(result.stdout_data);
}

}  // namespace postwarden::agent::health
