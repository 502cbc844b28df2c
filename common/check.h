// PW_CHECK: aborts with a message when a program invariant is broken (a bug, never the
// environment: anything the host can cause is a Status).
#pragma once

#include <cstdio>
#include <cstdlib>

#define PW_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
