// A connection to one sentinel for the discovery plugin. Every wait is bounded by a deadline and
// also ends as soon as `cancel_fd` becomes readable (the watcher's stop signal), so neither
// ResolveAll nor Stop() can hang on a sentinel that accepts connections but never answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "protocols/redis/sentinel/resp_reader.h"

namespace proxy::protocols::redis::sentinel {

class SentinelConnection {
 public:
  // `cancel_fd` < 0: no cancellation, deadlines only.
  SentinelConnection(std::string host, uint32_t port, int cancel_fd, RespLimits limits = {});
  ~SentinelConnection();
  SentinelConnection(const SentinelConnection&) = delete;
  SentinelConnection& operator=(const SentinelConnection&) = delete;

  // TCP connect (numeric addresses are not looked up; names go through getaddrinfo), then AUTH
  // when `password` is not empty. Errors: Cancelled, DeadlineExceeded, Unavailable,
  // PermissionDenied (AUTH refused), DataLoss (malformed reply).
  absl::Status Connect(const std::string& password, absl::Time deadline);
  // The same without waiting, for a poll loop: ConnectStart returns once the connect is under
  // way (fd() then waits for POLLOUT), ConnectFinish tells how it ended (no AUTH: the caller
  // pipelines it).
  absl::Status ConnectStart();
  absl::Status ConnectFinish();
  absl::Status Send(const std::vector<std::string>& args, absl::Time deadline);
  // The next reply (an error reply is a value, not a Status).
  absl::StatusOr<RespValue> Read(absl::Time deadline);
  absl::StatusOr<RespValue> Command(const std::vector<std::string>& args, absl::Time deadline);

  // For a poll loop: reads whatever the socket has without blocking. Unavailable on EOF/error.
  absl::Status ReadAvailable();
  // The next reply already received, nullopt when none is complete; DataLoss when malformed.
  absl::StatusOr<std::optional<RespValue>> NextBuffered();

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }
  void Close();
  // "host:port", for messages.
  const std::string& name() const { return name_; }

 private:
  // Waits for `events` on fd_ (or the cancel fd) until `deadline`.
  absl::Status Wait(short events, absl::Time deadline);
  absl::Status ConnectTcp(absl::Time deadline);
  // Resolves and starts connecting to the first address that does not fail at once.
  absl::Status StartTcp();
  absl::Status Error(absl::StatusCode code, absl::string_view what) const;

  std::string host_;
  uint32_t port_;
  std::string name_;
  int cancel_fd_;
  RespLimits limits_;
  int fd_ = -1;
  std::string input_;
  // The peer closed after sending bytes that are still in input_: those are parsed first (a
  // malformed last reply is reported as such), the next ReadAvailable reports the close.
  bool peer_closed_ = false;
};

}  // namespace proxy::protocols::redis::sentinel
