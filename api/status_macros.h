// Control-plane error propagation helpers; Debian's abseil ships neither macro.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the current function when `expr` yields a non-OK absl::Status.
#define PROXY_RETURN_IF_ERROR(expr)                  \
  do {                                               \
    ::absl::Status proxy_status_ = (expr);           \
    if (!proxy_status_.ok()) return proxy_status_;   \
  } while (0)

#define PROXY_STATUS_CONCAT_INNER_(a, b) a##b
#define PROXY_STATUS_CONCAT_(a, b) PROXY_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, else moves the value
// into `lhs` (which may be a declaration such as `auto x`).
#define PROXY_ASSIGN_OR_RETURN(lhs, rexpr) \
  PROXY_ASSIGN_OR_RETURN_IMPL_(PROXY_STATUS_CONCAT_(proxy_statusor_, __LINE__), lhs, rexpr)

#define PROXY_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
