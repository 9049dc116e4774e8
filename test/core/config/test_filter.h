// A test-only filter plugin ("test_filter") whose factory records how the config loader called
// it, so that tests can check filter config conversion and Create() errors.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace proxy::test {

// The registered name of the test filter.
inline constexpr absl::string_view kTestFilterName = "test_filter";
// TestFilterConfig.limit above this makes Create() fail.
inline constexpr uint32_t kTestFilterMaxLimit = 1000;

// What the last TestFilterFactory::Create() call saw.
struct TestFilterCalls {
  int creates = 0;
  bool validate_only = false;
  bool had_stats = true;
  std::string pool;
};

// The process-wide record (tests run single-threaded).
TestFilterCalls& LastTestFilterCalls();

}  // namespace proxy::test
