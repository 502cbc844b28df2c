// Random: the randomness Postwarden uses (reconnect jitter, check splay, outbox epochs),
// injectable so that a test can fix it. SystemRandom is seeded from std::random_device.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace postwarden::os {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next() = 0;
  // A draw in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

// Thread-safe.
class SystemRandom final : public Random {
 public:
  SystemRandom() : engine_(std::random_device{}()) {}
  uint64_t next() override {
    std::lock_guard lock(mutex_);
    return engine_();
  }

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;
};

}  // namespace postwarden::os
