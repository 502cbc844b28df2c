// The mail queues as Postfix sees them: `postqueue -c CONFIG_DIR -j` prints one JSON object
// per queued message (postqueue(1)); only its top-level "queue_name" is counted here. The
// parser is pure and refuses what is not postqueue's output (a line that is not a JSON
// object, or one without a queue_name) instead of guessing a count.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/os/command_runner.h"
#include "common/status.h"

namespace postwarden::agent::health {

struct QueueCounts {
  int64_t deferred = 0;
  int64_t active = 0;
  int64_t other = 0;  // incoming, hold, maildrop, ...
  friend bool operator==(const QueueCounts&, const QueueCounts&) = default;
};

// The queue_name of one JSON object, read at its top level only (a recipient or a sender
// that spells "queue_name" inside a string or a nested object is not taken for it).
// InvalidArgument when `line` is not one well-formed JSON object with a string queue_name.
Result<std::string> queueNameOf(std::string_view line);

// Counts every non-empty line of `output`. InvalidArgument naming the line number.
Result<QueueCounts> parsePostqueueJson(std::string_view output);

// Runs `postqueue -c config_dir -j` and parses it. Unavailable when it exits non-zero (the
// queue manager is down: "postqueue: fatal: Queue report unavailable"), with its stderr.
Result<QueueCounts> readQueues(os::CommandRunner& commands, const std::string& config_dir,
                               std::chrono::milliseconds timeout);

}  // namespace postwarden::agent::health
