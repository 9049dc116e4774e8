#include "protocols/redis/sentinel/connection.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace proxy::protocols::redis::sentinel {
namespace {

int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up so that a wait never ends just before its deadline and spins.
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

}  // namespace

SentinelConnection::SentinelConnection(std::string host, uint32_t port, int cancel_fd,
                                       RespLimits limits)
    : host_(std::move(host)),
      port_(port),
      name_(absl::StrCat(host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_, ":",
                         port_)),
      cancel_fd_(cancel_fd),
      limits_(limits) {}

SentinelConnection::~SentinelConnection() { Close(); }

void SentinelConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  input_.clear();
  peer_closed_ = false;
}

absl::Status SentinelConnection::Error(absl::StatusCode code, absl::string_view what) const {
  return absl::Status(code, absl::StrCat("sentinel ", name_, ": ", what));
}

absl::Status SentinelConnection::Wait(short events, absl::Time deadline) {
  for (;;) {
    pollfd fds[2] = {{fd_, events, 0}, {cancel_fd_, POLLIN, 0}};
    const int n = ::poll(fds, cancel_fd_ >= 0 ? 2 : 1, PollTimeoutMs(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(absl::StatusCode::kInternal, absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (cancel_fd_ >= 0 && (fds[1].revents & POLLIN) != 0) {
      return Error(absl::StatusCode::kCancelled, "stopped");
    }
    if (fds[0].revents != 0) return absl::OkStatus();  // ready, or an error the I/O will report
    if (absl::Now() >= deadline) {
      return Error(absl::StatusCode::kDeadlineExceeded, "timed out");
    }
  }
}

absl::Status SentinelConnection::StartTcp() {
  Close();
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  // Numeric first: an address never waits for a resolver.
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(port_);
  int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &list);
  if (rc == EAI_NONAME) {
    hints.ai_flags &= ~AI_NUMERICHOST;
    rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &list);
  }
  if (rc != 0 || list == nullptr) {
    return Error(absl::StatusCode::kUnavailable,
                 absl::StrCat("cannot resolve '", host_, "': ", ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(list, ::freeaddrinfo);
  absl::Status last = Error(absl::StatusCode::kUnavailable, "no address");
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd_ < 0) {
      last = Error(absl::StatusCode::kUnavailable, absl::StrCat("socket: ", std::strerror(errno)));
      continue;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      return absl::OkStatus();
    }
    last = Error(absl::StatusCode::kUnavailable, absl::StrCat("connect: ", std::strerror(errno)));
    Close();
  }
  return last;
}

absl::Status SentinelConnection::ConnectFinish() {
  if (fd_ < 0) return Error(absl::StatusCode::kUnavailable, "not connected");
  int error = 0;
  socklen_t length = sizeof(error);
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error == 0) return absl::OkStatus();
  Close();
  return Error(absl::StatusCode::kUnavailable, absl::StrCat("connect: ", std::strerror(error)));
}

absl::Status SentinelConnection::ConnectStart() { return StartTcp(); }

absl::Status SentinelConnection::ConnectTcp(absl::Time deadline) {
  absl::Status status = StartTcp();
  if (!status.ok()) return status;
  status = Wait(POLLOUT, deadline);
  if (!status.ok()) {
    Close();
    return status;
  }
  return ConnectFinish();
}

absl::Status SentinelConnection::Connect(const std::string& password, absl::Time deadline) {
  absl::Status status = ConnectTcp(deadline);
  if (!status.ok() || password.empty()) return status;
  absl::StatusOr<RespValue> reply = Command({"AUTH", password}, deadline);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) {
    Close();
    return Error(absl::StatusCode::kPermissionDenied,
                 absl::StrCat("AUTH refused: ", Printable(reply->text)));
  }
  return absl::OkStatus();
}

absl::Status SentinelConnection::Send(const std::vector<std::string>& args, absl::Time deadline) {
  if (fd_ < 0) return Error(absl::StatusCode::kUnavailable, "not connected");
  const std::string bytes = EncodeCommand(args);
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Status waited = Wait(POLLOUT, deadline);
      if (!waited.ok()) {
        Close();
        return waited;
      }
      continue;
    }
    const std::string why = absl::StrCat("send: ", std::strerror(errno));
    Close();
    return Error(absl::StatusCode::kUnavailable, why);
  }
  return absl::OkStatus();
}

absl::Status SentinelConnection::ReadAvailable() {
  if (fd_ < 0) return Error(absl::StatusCode::kUnavailable, "not connected");
  if (peer_closed_) {
    Close();
    return Error(absl::StatusCode::kUnavailable, "connection closed by the sentinel");
  }
  char chunk[16 * 1024];
  bool got = false;
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      input_.append(chunk, static_cast<size_t>(n));
      got = true;
      // More buffered than one reply may be is malformed whatever follows; NextBuffered says so.
      if (input_.size() > limits_.max_reply + limits_.max_line) return absl::OkStatus();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return absl::OkStatus();
    if (n == 0 && got) {
      peer_closed_ = true;
      return absl::OkStatus();
    }
    const std::string why = n == 0 ? "connection closed by the sentinel"
                                   : absl::StrCat("recv: ", std::strerror(errno));
    Close();
    return Error(absl::StatusCode::kUnavailable, why);
  }
}

absl::StatusOr<std::optional<RespValue>> SentinelConnection::NextBuffered() {
  if (input_.empty()) return std::optional<RespValue>();
  RespValue value;
  size_t consumed = 0;
  std::string why;
  switch (ParseResp(input_, limits_, &value, &consumed, &why)) {
    case RespParse::kComplete:
      input_.erase(0, consumed);
      return std::optional<RespValue>(std::move(value));
    case RespParse::kIncomplete:
      return std::optional<RespValue>();
    case RespParse::kMalformed:
      break;
  }
  const std::string sample = Printable(input_, 60);
  Close();
  return Error(absl::StatusCode::kDataLoss,
               absl::StrCat("malformed reply (", why, "): \"", sample, "\""));
}

absl::StatusOr<RespValue> SentinelConnection::Read(absl::Time deadline) {
  for (;;) {
    absl::StatusOr<std::optional<RespValue>> next = NextBuffered();
    if (!next.ok()) return next.status();
    if (next->has_value()) return std::move(**next);
    if (fd_ < 0) return Error(absl::StatusCode::kUnavailable, "not connected");
    absl::Status waited = Wait(POLLIN, deadline);
    if (!waited.ok()) {
      Close();
      return waited;
    }
    absl::Status read = ReadAvailable();
    if (!read.ok()) return read;
  }
}

absl::StatusOr<RespValue> SentinelConnection::Command(const std::vector<std::string>& args,
                                                      absl::Time deadline) {
  absl::Status sent = Send(args, deadline);
  if (!sent.ok()) return sent;
  return Read(deadline);
}

}  // namespace proxy::protocols::redis::sentinel
