// Rate-limited logging of failed accepts.
#include "core/net/accept_failures.h"

#include <cerrno>
#include <cstring>

#include "core/common/log.h"

namespace proxy {

bool IsLocalResourceError(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

void AcceptFailureLog::Record(const char* who, int error, uint64_t now_us) {
  ++failures_;
  if (last_log_us_ != 0 && now_us - last_log_us_ < kLogIntervalUs) return;
  PROXY_LOG(log::kError, "%s: accept failed: %s (%d time%s in the last interval); pausing accepts",
            who, std::strerror(error), static_cast<long long>(failures_),
            failures_ == 1 ? "" : "s");
  last_log_us_ = now_us;
  failures_ = 0;
}

}  // namespace proxy
