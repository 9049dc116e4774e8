// Zero-downtime binary upgrade: the running proxy hands its listening sockets to its successor
// over a unix stream socket (file descriptors passed with SCM_RIGHTS), so the listening sockets
// are never closed and no connection attempt is refused or reset while the binary changes.
// docs/upgrade.md has the procedure and the protocol; the wire format is described in
// upgrade.cc.
//
//   old process                              new process
//   UpgradeServer::Start(path, ...)
//                                            UpgradeClient::Connect(path)  -> HELLO
//   sockets() -> OFFER, SOCKETS batches  ->  (uses the fds instead of binding, starts serving)
//                                            UpgradeClient::Commit()       -> COMMIT
//   on_commit(): stop accepting, release
//   the pid file; close the upgrade socket
//   -> ACK                               ->  UpgradeServer::Start(path, ...) for the next one
//   drain the clients, exit
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace proxy {

// A socket handed over: `key` names what it is (the server uses "pool <listen address> <n>",
// "stats", "admin"); the fd is the process's own copy.
struct InheritedSocket {
  std::string key;
  int fd = -1;
};

// Limits of the protocol, shared by both sides (a peer that exceeds them is refused).
struct UpgradeLimits {
  // The protocol version this build speaks.
  static constexpr uint32_t kVersion = 1;
  // Largest message payload; a header announcing more is refused before anything is read.
  static constexpr uint32_t kMaxPayload = 64 * 1024;
  // Descriptors per SOCKETS message (Linux accepts up to 253 in one SCM_RIGHTS message).
  static constexpr size_t kMaxFdsPerBatch = 64;
  // Sockets in one handoff, and the longest key.
  static constexpr size_t kMaxSockets = 4096;
  static constexpr size_t kMaxKeyBytes = 512;
  // Text of an ERROR message.
  static constexpr size_t kMaxErrorBytes = 1024;
};

// In the running process: serves successors on `path` from a thread of its own.
class UpgradeServer {
 public:
  UpgradeServer() = default;
  ~UpgradeServer();  // Stop()
  UpgradeServer(const UpgradeServer&) = delete;
  UpgradeServer& operator=(const UpgradeServer&) = delete;

  // Takes over `path`: a stale socket file (nobody answers on it) is unlinked; a live one (a
  // process accepts on it) is refused (kAlreadyExists), and so is a path that exists and is not
  // a socket (kFailedPrecondition: never unlinked). Binds, chmod 0600, listens, and serves
  // successors on a thread of its own, one at a time.
  //   sockets(): called on that thread when a successor asks; returns what to hand over (the
  //     fds stay owned by the caller: the kernel copies them into the message, none is closed).
  //   on_commit(): called on that thread, at most once, when the successor commits; returns
  //     after the caller has stopped accepting and released its pid file. Then the upgrade
  //     socket is closed (the successor binds `path` next) and the ack is sent.
  //   Neither callback may call Stop() (it joins that thread).
  absl::Status Start(const std::string& path, std::function<std::vector<InheritedSocket>()> sockets,
                     std::function<void()> on_commit);
  // Stops serving (a successor in the middle of a handoff sees the connection close, so its
  // Connect() or Commit() fails and it exits). Unlinks `path` only if the file there is still
  // the one we bound (same device, inode and change time) and no successor committed.
  void Stop();

  // True once a successor committed (on_commit() returned).
  bool committed() const { return committed_.load(std::memory_order_acquire); }

  // Time a successor has to send its HELLO after connecting, and to commit after it received
  // the sockets (it loads its config and starts its workers in between). Set before Start().
  void set_hello_timeout(absl::Duration timeout) { hello_timeout_ = timeout; }
  void set_commit_timeout(absl::Duration timeout) { commit_timeout_ = timeout; }
  // The uid a successor must run as (SO_PEERCRED); default: our effective uid.
  void set_expected_uid(uid_t uid) { expected_uid_ = uid; }

 private:
  void Serve();
  // One successor, from accept to commit or disconnect. True when it committed.
  bool ServeSuccessor(int conn);
  void RefuseBusy(int conn, pid_t busy_with);

  std::string path_;
  std::function<std::vector<InheritedSocket>()> sockets_;
  std::function<void()> on_commit_;
  absl::Duration hello_timeout_ = absl::Seconds(5);
  absl::Duration commit_timeout_ = absl::Seconds(60);
  uid_t expected_uid_ = static_cast<uid_t>(-1);  // -1: geteuid()
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: Stop() wakes the thread
  // The bound file's identity, to unlink only our own file.
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  int64_t ctime_ns_ = 0;
  std::atomic<bool> committed_{false};
  std::thread thread_;
};

// In the new process.
class UpgradeClient {
 public:
  ~UpgradeClient();  // closes the connection and every fd not taken
  UpgradeClient(const UpgradeClient&) = delete;
  UpgradeClient& operator=(const UpgradeClient&) = delete;

  // Connects and receives the sockets, all within `timeout`. kNotFound when `path` does not
  // exist or nobody listens there (start normally). Other errors when the exchange fails (the
  // new process should then exit with the reason: never two half-upgraded processes):
  // kPermissionDenied (not ours), kUnavailable (another successor is upgrading, the peer
  // closed), kDeadlineExceeded, kDataLoss (a malformed message).
  static absl::StatusOr<std::unique_ptr<UpgradeClient>> Connect(const std::string& path,
                                                                absl::Duration timeout);

  const std::vector<InheritedSocket>& sockets() const { return sockets_; }
  // Takes (moves out) the fd for `key`, -1 if not handed over (or already taken). Fds not taken
  // are closed by the destructor. Every fd received is close-on-exec.
  int Take(const std::string& key);
  // The old process's pid (as it reported it in its OFFER).
  pid_t peer_pid() const { return peer_pid_; }

  // Tells the old process to stop accepting; returns once it acknowledged, or an error on
  // timeout, EOF or a refusal. Call once.
  absl::Status Commit(absl::Duration timeout);

 private:
  UpgradeClient() = default;

  int fd_ = -1;
  pid_t peer_pid_ = 0;
  std::vector<InheritedSocket> sockets_;
};

}  // namespace proxy
