// The socket handoff of a binary upgrade (core/server/upgrade.h, docs/upgrade.md).
//
// Wire format (version 1), over a unix stream socket. Every message is a 12-byte header and a
// payload, integers in network byte order:
//   u32 magic "SPUG" | u16 type | u16 zero | u32 payload length (at most kMaxPayload)
// Messages, in order (new = the successor, old = the running proxy):
//   new -> old  HELLO    u32 version (the highest the successor speaks), u32 pid
//   old -> new  OFFER    u32 version (the one both speak: the lower), u32 pid, u32 socket count
//   old -> new  SOCKETS  u32 n, then n times (u16 key length, key bytes); carries n descriptors
//                        (SCM_RIGHTS) in the same order; 1 <= n <= kMaxFdsPerBatch; repeated
//                        until `socket count` sockets came (none when the count is 0)
//   new -> old  COMMIT   empty
//   old -> new  ACK      u32 pid
//   either      ERROR    text (why the peer is refused); the sender closes after it
// Anything else (a bad magic, an unknown or unexpected type, a payload too long, descriptors on
// a message that carries none, a count that does not match) is refused: logged, answered with
// ERROR where the peer can still read, and the connection is closed. Every read and write has a
// deadline, so a stuck peer cannot hang either process.
//
// Descriptors: the kernel attaches them to the first byte of the sendmsg() that carries them,
// and a recvmsg() on a stream socket never returns bytes that follow a message with descriptors
// (Linux stops there). Each message is read exactly (header, then payload), so a message's
// descriptors always arrive with the read of its own header, never with the bytes of another.
#include "core/server/upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/log.h"

namespace proxy {
namespace {

constexpr uint32_t kMagic = 0x53505547;  // "SPUG"
constexpr size_t kHeaderBytes = 12;

enum MessageType : uint16_t {
  kHello = 1,
  kOffer = 2,
  kSockets = 3,
  kCommit = 4,
  kAck = 5,
  kError = 6,
};

const char* TypeName(uint16_t type) {
  switch (type) {
    case kHello:
      return "HELLO";
    case kOffer:
      return "OFFER";
    case kSockets:
      return "SOCKETS";
    case kCommit:
      return "COMMIT";
    case kAck:
      return "ACK";
    case kError:
      return "ERROR";
  }
  return "unknown";
}

std::string Errno(const char* what) { return absl::StrCat(what, ": ", std::strerror(errno)); }

void CloseAll(std::vector<int>* fds) {
  for (int fd : *fds) {
    if (fd >= 0) close(fd);
  }
  fds->clear();
}

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void PutU32(std::string* out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xffff));
}

// Reads a payload front to back; every getter fails (false) past the end.
class Reader {
 public:
  explicit Reader(const std::string& data) : data_(data) {}
  bool U16(uint16_t* v) {
    if (data_.size() - pos_ < 2) return false;
    *v = static_cast<uint16_t>((static_cast<uint8_t>(data_[pos_]) << 8) |
                               static_cast<uint8_t>(data_[pos_ + 1]));
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    uint16_t high = 0;
    uint16_t low = 0;
    if (!U16(&high) || !U16(&low)) return false;
    *v = (static_cast<uint32_t>(high) << 16) | low;
    return true;
  }
  bool Bytes(size_t n, std::string* out) {
    if (data_.size() - pos_ < n) return false;
    out->assign(data_, pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

// One received message; the descriptors it carried are closed unless taken.
struct Message {
  Message() = default;
  Message(Message&& other) noexcept
      : type(other.type), payload(std::move(other.payload)), fds(std::move(other.fds)) {
    other.fds.clear();
  }
  Message& operator=(Message&&) = delete;
  ~Message() { CloseAll(&fds); }
  uint16_t type = 0;
  std::string payload;
  std::vector<int> fds;
};

// Milliseconds left until `deadline` for poll(), rounded up, at least 0.
int PollTimeout(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

// Framed messages over a nonblocking unix stream socket (not owned). While it waits, it also
// watches `stop_fd` (readable = give up: kCancelled) and `side_fd` (readable = `on_side` runs:
// the server refuses a second successor while it serves one); both may be -1.
class Channel {
 public:
  Channel(int fd, int stop_fd = -1, int side_fd = -1, std::function<void()> on_side = nullptr)
      : fd_(fd), stop_fd_(stop_fd), side_fd_(side_fd), on_side_(std::move(on_side)) {}

  absl::Status Send(uint16_t type, const std::string& payload, const std::vector<int>& fds,
                    absl::Time deadline) {
    std::string bytes;
    PutU32(&bytes, kMagic);
    PutU16(&bytes, type);
    PutU16(&bytes, 0);
    PutU32(&bytes, static_cast<uint32_t>(payload.size()));
    bytes += payload;
    size_t sent = 0;
    bool fds_sent = fds.empty();
    std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<size_t>(fds.size(), 1)));
    while (sent < bytes.size()) {
      iovec iov{&bytes[sent], bytes.size() - sent};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      if (!fds_sent) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
      }
      const ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        fds_sent = true;  // they went with the first byte
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        absl::Status ready = Wait(POLLOUT, deadline);
        if (!ready.ok()) return ready;
        continue;
      }
      return absl::UnavailableError(
          Errno(absl::StrCat("sending ", TypeName(type), " failed").c_str()));
    }
    return absl::OkStatus();
  }

  // The next message; kUnavailable when the peer closed at a message boundary (eof() is then
  // true), kDataLoss when it is malformed.
  absl::StatusOr<Message> Receive(absl::Time deadline) {
    Message message;
    char header[kHeaderBytes];
    absl::Status status = ReadExact(header, kHeaderBytes, deadline, &message.fds, true);
    if (!status.ok()) return status;
    std::string h(header, kHeaderBytes);
    Reader reader(h);
    uint32_t magic = 0;
    uint16_t zero = 0;
    uint32_t length = 0;
    reader.U32(&magic);
    reader.U16(&message.type);
    reader.U16(&zero);
    reader.U32(&length);
    if (magic != kMagic) {
      return absl::DataLossError(absl::StrFormat("bad magic 0x%08x (not an upgrade peer)", magic));
    }
    if (message.type < kHello || message.type > kError || zero != 0) {
      return absl::DataLossError(absl::StrFormat("unknown message type %d", message.type));
    }
    if (length > UpgradeLimits::kMaxPayload) {
      return absl::DataLossError(absl::StrFormat("%s of %u bytes (at most %u)",
                                                 TypeName(message.type), length,
                                                 UpgradeLimits::kMaxPayload));
    }
    message.payload.resize(length);
    if (length > 0) {
      status = ReadExact(&message.payload[0], length, deadline, &message.fds, false);
      if (!status.ok()) return status;
    }
    return message;
  }

  bool eof() const { return eof_; }

 private:
  absl::Status Wait(short events, absl::Time deadline) {
    for (;;) {
      pollfd fds[3] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}, {side_fd_, POLLIN, 0}};
      const int n = poll(fds, 3, PollTimeout(deadline));
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::InternalError(Errno("poll"));
      }
      if (fds[1].revents != 0) return absl::CancelledError("the upgrade server is stopping");
      // The current peer first: when it just left, the next one waits in the backlog to be
      // served rather than refused as a second successor.
      if (fds[0].revents != 0) return absl::OkStatus();
      if (fds[2].revents != 0 && on_side_) on_side_();
      if (n == 0 || absl::Now() >= deadline) {
        return absl::DeadlineExceededError("the upgrade peer did not answer in time");
      }
    }
  }

  absl::Status ReadExact(char* data, size_t size, absl::Time deadline, std::vector<int>* fds,
                         bool at_boundary) {
    size_t got = 0;
    // Room for one batch; more descriptors than that on one message truncate (MSG_CTRUNC: the
    // kernel closes the excess) and the message is refused.
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * UpgradeLimits::kMaxFdsPerBatch)];
    while (got < size) {
      iovec iov{data + got, size - got};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      const ssize_t n = recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        absl::Status ready = Wait(POLLIN, deadline);
        if (!ready.ok()) return ready;
        continue;
      }
      if (n < 0) return absl::UnavailableError(Errno("reading from the upgrade peer failed"));
      for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd = -1;
          std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
          // MSG_CMSG_CLOEXEC set it already; make sure, since a leaked listener would keep a
          // port open in every process we start.
          fcntl(fd, F_SETFD, FD_CLOEXEC);
          fds->push_back(fd);
        }
      }
      if ((msg.msg_flags & MSG_CTRUNC) != 0) {
        return absl::DataLossError(
            absl::StrFormat("more than %d descriptors in one message",
                            static_cast<int>(UpgradeLimits::kMaxFdsPerBatch)));
      }
      if (n == 0) {
        eof_ = at_boundary && got == 0;
        return absl::UnavailableError(eof_ ? "the upgrade peer closed the connection"
                                           : "the upgrade peer closed in the middle of a message");
      }
      got += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  int fd_;
  int stop_fd_;
  int side_fd_;
  std::function<void()> on_side_;
  bool eof_ = false;
};

std::string ErrorPayload(absl::string_view text) {
  return std::string(text.substr(0, UpgradeLimits::kMaxErrorBytes));
}

// The text of an ERROR message, made printable for the log.
std::string ErrorText(const std::string& payload) {
  std::string text = payload.substr(0, UpgradeLimits::kMaxErrorBytes);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return text;
}

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  *addr = sockaddr_un{};
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

absl::Status PeerCredentials(int fd, ucred* cred) {
  socklen_t len = sizeof(*cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0) {
    return absl::InternalError(Errno("SO_PEERCRED"));
  }
  return absl::OkStatus();
}

// A key must name something: not empty, bounded, no control bytes.
bool ValidKey(const std::string& key) {
  if (key.empty() || key.size() > UpgradeLimits::kMaxKeyBytes) return false;
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

int64_t ChangeTimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// UpgradeServer

UpgradeServer::~UpgradeServer() { Stop(); }

absl::Status UpgradeServer::Start(const std::string& path,
                                  std::function<std::vector<InheritedSocket>()> sockets,
                                  std::function<void()> on_commit) {
  if (thread_.joinable() || listen_fd_ >= 0) {
    return absl::FailedPreconditionError("the upgrade server is already started");
  }
  sockaddr_un addr{};
  if (!FillAddress(path, &addr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("upgrade socket path '", path, "' is empty or too long"));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("upgrade socket path '", path, "' exists and is not a socket"));
    }
    // Somebody there? Connecting tells: a live proxy accepts, a stale file refuses.
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return absl::InternalError(Errno("socket"));
    timeval tv{1, 0};  // a live peer with a full backlog would block connect()
    setsockopt(probe, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 ||
        errno == EAGAIN) {
      ucred cred{};
      const bool known = PeerCredentials(probe, &cred).ok();
      close(probe);
      return absl::AlreadyExistsError(absl::StrCat(
          "another process", known ? absl::StrCat(" (pid ", cred.pid, ")") : std::string(),
          " serves upgrades on '", path, "'"));
    }
    const int error = errno;
    close(probe);
    if (error != ECONNREFUSED) {
      errno = error;
      return absl::FailedPreconditionError(
          Errno(absl::StrCat("probing upgrade socket '", path, "'").c_str()));
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::FailedPreconditionError(
          Errno(absl::StrCat("removing stale upgrade socket '", path, "'").c_str()));
    }
    PROXY_LOG(log::kNotice, "removed stale upgrade socket '%s'", path);
  } else if (errno != ENOENT) {
    return absl::FailedPreconditionError(Errno(absl::StrCat("stat '", path, "'").c_str()));
  }

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(Errno("socket"));
  // chmod before listen(): until listen() every connect() is refused, so nobody gets in under
  // the umask's mode.
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string reason = Errno(absl::StrCat("bind upgrade socket '", path, "'").c_str());
    close(fd);
    return absl::UnavailableError(reason);
  }
  if (chmod(path.c_str(), 0600) != 0 || stat(path.c_str(), &st) != 0 || listen(fd, 8) != 0) {
    const std::string reason = Errno(absl::StrCat("upgrade socket '", path, "'").c_str());
    close(fd);
    unlink(path.c_str());
    return absl::UnavailableError(reason);
  }
  const int stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop < 0) {
    const std::string reason = Errno("eventfd");
    close(fd);
    unlink(path.c_str());
    return absl::InternalError(reason);
  }
  path_ = path;
  sockets_ = std::move(sockets);
  on_commit_ = std::move(on_commit);
  listen_fd_ = fd;
  stop_fd_ = stop;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  ctime_ns_ = ChangeTimeNs(st);
  committed_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { Serve(); });
  PROXY_LOG(log::kNotice, "serving upgrades on '%s'", path);
  return absl::OkStatus();
}

void UpgradeServer::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (write(stop_fd_, &one, sizeof(one)) < 0) {
      PROXY_LOG(log::kError, "waking the upgrade thread failed: %s", std::strerror(errno));
    }
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    listen_fd_ = -1;
  }
  if (stop_fd_ >= 0) {
    close(stop_fd_);
    stop_fd_ = -1;
  }
  if (!path_.empty()) {
    // Unlink only our own file: after a commit the successor binds `path` (a new file), and a
    // file somebody else put there is theirs.
    struct stat st {};
    if (!committed() && stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ &&
        st.st_ino == ino_ && ChangeTimeNs(st) == ctime_ns_) {
      unlink(path_.c_str());
    }
    path_.clear();
  }
}

void UpgradeServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      PROXY_LOG(log::kError, "upgrade socket: poll failed: %s", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents == 0) continue;
    const int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      PROXY_LOG(log::kError, "upgrade socket: accept failed: %s", std::strerror(errno));
      // Out of descriptors: the successor waits in the backlog (or times out) meanwhile.
      pollfd stop{stop_fd_, POLLIN, 0};
      if (poll(&stop, 1, 100) > 0) return;
      continue;
    }
    const bool committed = ServeSuccessor(conn);
    close(conn);
    if (committed) return;  // nothing left to hand over: the successor serves upgrades now
  }
}

void UpgradeServer::RefuseBusy(int conn, pid_t busy_with) {
  ucred cred{};
  PeerCredentials(conn, &cred).IgnoreError();
  PROXY_LOG(log::kWarn, "upgrade socket: refused pid %d: successor pid %d is upgrading",
            static_cast<int>(cred.pid), static_cast<int>(busy_with));
  // One short attempt: a fresh socket's buffer takes this message whole, and this thread must
  // not wait for a second successor while it serves the first.
  Channel(conn)
      .Send(kError,
            ErrorPayload(absl::StrCat("another successor (pid ", busy_with,
                                      ") is upgrading this proxy")),
            {}, absl::Now())
      .IgnoreError();
}

bool UpgradeServer::ServeSuccessor(int conn) {
  ucred cred{};
  absl::Status status = PeerCredentials(conn, &cred);
  if (!status.ok()) {
    PROXY_LOG(log::kError, "upgrade socket: %s", status.message());
    return false;
  }
  const pid_t peer = cred.pid;
  auto refuse_others = [this, peer] {
    const int other = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (other < 0) return;
    RefuseBusy(other, peer);
    close(other);
  };
  Channel channel(conn, stop_fd_, listen_fd_, refuse_others);
  // A refusal: logged, told to the peer (best effort, briefly), and the connection is closed.
  auto refuse = [&](const std::string& reason) {
    PROXY_LOG(log::kError, "upgrade socket: refused pid %d: %s", static_cast<int>(peer), reason);
    channel.Send(kError, ErrorPayload(reason), {}, absl::Now() + absl::Milliseconds(100))
        .IgnoreError();
    return false;
  };
  const uid_t expected = expected_uid_ != static_cast<uid_t>(-1) ? expected_uid_ : geteuid();
  if (cred.uid != expected) {
    return refuse(absl::StrCat("uid ", cred.uid, " is not the proxy's uid ", expected));
  }

  absl::StatusOr<Message> hello = channel.Receive(absl::Now() + hello_timeout_);
  if (!hello.ok()) {
    if (channel.eof() || absl::IsCancelled(hello.status())) {
      // A probe (another UpgradeServer::Start checking the path) or a successor that gave up.
      PROXY_LOG(log::kInfo, "upgrade socket: pid %d left before HELLO", static_cast<int>(peer));
      return false;
    }
    return refuse(std::string(hello.status().message()));
  }
  if (hello->type != kHello) {
    return refuse(absl::StrCat("expected HELLO, got ", TypeName(hello->type)));
  }
  if (!hello->fds.empty()) return refuse("HELLO carries descriptors");
  Reader reader(hello->payload);
  uint32_t version = 0;
  uint32_t pid = 0;
  if (!reader.U32(&version) || !reader.U32(&pid) || !reader.done()) {
    return refuse(absl::StrCat("malformed HELLO of ", hello->payload.size(), " bytes"));
  }
  if (version < 1) return refuse(absl::StrCat("unsupported protocol version ", version));
  const uint32_t agreed = std::min(version, UpgradeLimits::kVersion);
  PROXY_LOG(log::kNotice, "upgrade: successor pid %u (peer pid %d, protocol %u) asks for the sockets",
            pid, static_cast<int>(peer), agreed);

  // What to hand over, checked before anything is sent.
  std::vector<InheritedSocket> sockets = sockets_ ? sockets_() : std::vector<InheritedSocket>{};
  if (sockets.size() > UpgradeLimits::kMaxSockets) {
    return refuse(absl::StrCat("the running proxy has ", sockets.size(), " sockets (at most ",
                               UpgradeLimits::kMaxSockets, ")"));
  }
  std::set<std::string> keys;
  for (const InheritedSocket& s : sockets) {
    if (!ValidKey(s.key) || !keys.insert(s.key).second) {
      return refuse(absl::StrCat("the running proxy has an invalid or repeated socket key '",
                                 ErrorText(s.key), "'"));
    }
    if (s.fd < 0 || fcntl(s.fd, F_GETFD) < 0) {
      return refuse(absl::StrCat("the running proxy's socket '", s.key, "' is not open"));
    }
  }

  const absl::Time send_deadline = absl::Now() + hello_timeout_;
  std::string offer;
  PutU32(&offer, agreed);
  PutU32(&offer, static_cast<uint32_t>(getpid()));
  PutU32(&offer, static_cast<uint32_t>(sockets.size()));
  status = channel.Send(kOffer, offer, {}, send_deadline);
  for (size_t i = 0; status.ok() && i < sockets.size();) {
    std::string batch;
    std::vector<int> fds;
    PutU32(&batch, 0);  // n, filled in below
    while (i < sockets.size() && fds.size() < UpgradeLimits::kMaxFdsPerBatch &&
           batch.size() + 2 + sockets[i].key.size() <= UpgradeLimits::kMaxPayload) {
      PutU16(&batch, static_cast<uint16_t>(sockets[i].key.size()));
      batch += sockets[i].key;
      fds.push_back(sockets[i].fd);
      ++i;
    }
    std::string n;
    PutU32(&n, static_cast<uint32_t>(fds.size()));
    batch.replace(0, 4, n);
    status = channel.Send(kSockets, batch, fds, send_deadline);
  }
  if (!status.ok()) {
    PROXY_LOG(log::kError, "upgrade socket: handing the sockets to pid %d failed: %s",
              static_cast<int>(peer), status.message());
    return false;
  }
  PROXY_LOG(log::kNotice, "upgrade: handed %d socket%s to pid %d, waiting for its commit",
            static_cast<int>(sockets.size()), sockets.size() == 1 ? "" : "s",
            static_cast<int>(peer));

  absl::StatusOr<Message> commit = channel.Receive(absl::Now() + commit_timeout_);
  if (!commit.ok()) {
    if (channel.eof()) {
      PROXY_LOG(log::kNotice, "upgrade: pid %d left without committing; still serving",
                static_cast<int>(peer));
      return false;
    }
    if (absl::IsCancelled(commit.status())) return false;
    return refuse(std::string(commit.status().message()));
  }
  if (commit->type == kError) {
    PROXY_LOG(log::kNotice, "upgrade: pid %d gave up (%s); still serving", static_cast<int>(peer),
              ErrorText(commit->payload));
    return false;
  }
  if (commit->type != kCommit) {
    return refuse(absl::StrCat("expected COMMIT, got ", TypeName(commit->type)));
  }
  if (!commit->fds.empty() || !commit->payload.empty()) return refuse("malformed COMMIT");

  PROXY_LOG(log::kNotice, "upgrade: pid %d commits; handing over", static_cast<int>(peer));
  // The point of no return. The upgrade socket closes first: from here on a connect() to `path`
  // is refused, so the successor finds the file stale and binds it for the next upgrade.
  close(listen_fd_);
  listen_fd_ = -1;
  if (on_commit_) on_commit_();
  committed_.store(true, std::memory_order_release);
  std::string ack;
  PutU32(&ack, static_cast<uint32_t>(getpid()));
  status = channel.Send(kAck, ack, {}, absl::Now() + hello_timeout_);
  if (!status.ok()) {
    PROXY_LOG(log::kError, "upgrade: acknowledging pid %d's commit failed: %s",
              static_cast<int>(peer), status.message());
  } else {
    PROXY_LOG(log::kNotice, "upgrade: pid %d took over", static_cast<int>(peer));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// UpgradeClient

UpgradeClient::~UpgradeClient() {
  for (InheritedSocket& s : sockets_) {
    if (s.fd >= 0) close(s.fd);
    s.fd = -1;
  }
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<std::unique_ptr<UpgradeClient>> UpgradeClient::Connect(const std::string& path,
                                                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  sockaddr_un addr{};
  if (!FillAddress(path, &addr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("upgrade socket path '", path, "' is empty or too long"));
  }
  std::unique_ptr<UpgradeClient> client(new UpgradeClient());
  client->fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client->fd_ < 0) return absl::InternalError(Errno("socket"));
  // A unix connect() waits for room in a full backlog up to SO_SNDTIMEO.
  const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  setsockopt(client->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(client->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string reason = Errno(absl::StrCat("connect to '", path, "'").c_str());
    switch (errno) {
      case ENOENT:
      case ECONNREFUSED:
        return absl::NotFoundError(absl::StrCat("no proxy serves upgrades on '", path, "' (",
                                                reason, ")"));
      case EACCES:
      case EPERM:
        return absl::PermissionDeniedError(reason);
      case EAGAIN:
      case EINPROGRESS:
        return absl::DeadlineExceededError(reason);
      default:
        return absl::UnavailableError(reason);
    }
  }
  const int flags = fcntl(client->fd_, F_GETFL);
  if (flags < 0 || fcntl(client->fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
    return absl::InternalError(Errno("fcntl"));
  }
  ucred cred{};
  absl::Status status = PeerCredentials(client->fd_, &cred);
  if (!status.ok()) return status;
  if (cred.uid != geteuid()) {
    return absl::PermissionDeniedError(absl::StrCat("the process on '", path, "' runs as uid ",
                                                    cred.uid, ", not ", geteuid()));
  }

  Channel channel(client->fd_);
  std::string hello;
  PutU32(&hello, UpgradeLimits::kVersion);
  PutU32(&hello, static_cast<uint32_t>(getpid()));
  status = channel.Send(kHello, hello, {}, deadline);
  if (!status.ok()) {
    // A refusal (busy, another uid) may be sent and the connection closed before our HELLO
    // went out: the reason is waiting to be read.
    absl::StatusOr<Message> refusal = channel.Receive(absl::Now() + absl::Milliseconds(100));
    if (refusal.ok() && refusal->type == kError) {
      return absl::UnavailableError(
          absl::StrCat("the running proxy refused the upgrade: ", ErrorText(refusal->payload)));
    }
    return status;
  }

  absl::StatusOr<Message> offer = channel.Receive(deadline);
  if (!offer.ok()) return offer.status();
  if (offer->type == kError) {
    return absl::UnavailableError(
        absl::StrCat("the running proxy refused the upgrade: ", ErrorText(offer->payload)));
  }
  if (offer->type != kOffer || !offer->fds.empty()) {
    return absl::DataLossError(absl::StrCat("expected OFFER, got ", TypeName(offer->type)));
  }
  Reader reader(offer->payload);
  uint32_t version = 0;
  uint32_t pid = 0;
  uint32_t count = 0;
  if (!reader.U32(&version) || !reader.U32(&pid) || !reader.U32(&count) || !reader.done()) {
    return absl::DataLossError("malformed OFFER");
  }
  if (version != UpgradeLimits::kVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("the running proxy offers protocol version ", version, ", this one speaks ",
                     UpgradeLimits::kVersion));
  }
  if (count > UpgradeLimits::kMaxSockets) {
    return absl::DataLossError(absl::StrCat("the running proxy offers ", count, " sockets"));
  }
  client->peer_pid_ = static_cast<pid_t>(pid);

  std::set<std::string> keys;
  while (client->sockets_.size() < count) {
    absl::StatusOr<Message> batch = channel.Receive(deadline);
    if (!batch.ok()) return batch.status();
    if (batch->type == kError) {
      return absl::UnavailableError(
          absl::StrCat("the running proxy refused the upgrade: ", ErrorText(batch->payload)));
    }
    if (batch->type != kSockets) {
      return absl::DataLossError(absl::StrCat("expected SOCKETS, got ", TypeName(batch->type)));
    }
    Reader r(batch->payload);
    uint32_t n = 0;
    if (!r.U32(&n) || n == 0 || n > UpgradeLimits::kMaxFdsPerBatch ||
        n > count - client->sockets_.size()) {
      return absl::DataLossError(absl::StrCat("SOCKETS message with a bad count ", n));
    }
    if (batch->fds.size() != n) {
      return absl::DataLossError(absl::StrCat("SOCKETS message names ", n, " sockets but carries ",
                                              batch->fds.size(), " descriptors"));
    }
    std::vector<std::string> batch_keys;
    for (uint32_t i = 0; i < n; ++i) {
      uint16_t length = 0;
      std::string key;
      if (!r.U16(&length) || !r.Bytes(length, &key) || !ValidKey(key) ||
          !keys.insert(key).second) {
        return absl::DataLossError("SOCKETS message with a bad or repeated key");
      }
      batch_keys.push_back(std::move(key));
    }
    if (!r.done()) return absl::DataLossError("SOCKETS message with trailing bytes");
    for (uint32_t i = 0; i < n; ++i) {
      client->sockets_.push_back(InheritedSocket{std::move(batch_keys[i]), batch->fds[i]});
      batch->fds[i] = -1;
    }
    batch->fds.clear();
  }
  PROXY_LOG(log::kNotice, "upgrade: received %d socket%s from pid %u",
            static_cast<int>(client->sockets_.size()), client->sockets_.size() == 1 ? "" : "s",
            pid);
  return client;
}

int UpgradeClient::Take(const std::string& key) {
  for (InheritedSocket& s : sockets_) {
    if (s.key == key) {
      const int fd = s.fd;
      s.fd = -1;
      return fd;
    }
  }
  return -1;
}

absl::Status UpgradeClient::Commit(absl::Duration timeout) {
  if (fd_ < 0) return absl::FailedPreconditionError("already committed");
  const absl::Time deadline = absl::Now() + timeout;
  Channel channel(fd_);
  absl::Status status = channel.Send(kCommit, "", {}, deadline);
  if (status.ok()) {
    absl::StatusOr<Message> ack = channel.Receive(deadline);
    if (!ack.ok()) {
      status = ack.status();
      if (channel.eof()) {
        status = absl::UnavailableError(
            "the running proxy closed the upgrade connection before acknowledging the commit");
      }
    } else if (ack->type == kError) {
      status = absl::UnavailableError(
          absl::StrCat("the running proxy refused the commit: ", ErrorText(ack->payload)));
    } else if (ack->type != kAck || !ack->fds.empty()) {
      status = absl::DataLossError(absl::StrCat("expected ACK, got ", TypeName(ack->type)));
    }
  }
  close(fd_);
  fd_ = -1;
  if (status.ok()) {
    PROXY_LOG(log::kNotice, "upgrade: pid %d acknowledged the commit", static_cast<int>(peer_pid_));
  }
  return status;
}

}  // namespace proxy
