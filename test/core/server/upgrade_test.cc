// Tests for the binary upgrade's socket handoff (core/server/upgrade.h): real listening TCP
// sockets on 127.0.0.1 and a real unix socket under TEST_TMPDIR, the server's thread in this
// process, successors as this thread, as raw sockets speaking garbage, and as a forked child
// under another uid.
#include "core/server/upgrade.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/integration/harness.h"

namespace proxy::test {
namespace {

using ::testing::HasSubstr;

// A unix socket path under TEST_TMPDIR. sun_path holds 107 bytes and bazel's TEST_TMPDIR can be
// longer: then the test runs from TEST_TMPDIR and the path is relative.
std::string SocketPath(const std::string& name) {
  static int counter = 0;
  const std::string file = absl::StrCat(name, "-", getpid(), "-", ++counter, ".sock");
  const std::string full = TempPath(file);
  if (full.size() < sizeof(sockaddr_un{}.sun_path)) return full;
  const std::string dir = TempPath("");
  EXPECT_EQ(chdir(dir.c_str()), 0) << dir;
  return file;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// A listening TCP socket on a free 127.0.0.1 port.
int ListenTcp() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(fd, 128), 0);
  return fd;
}

std::string LocalAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  return std::string(reinterpret_cast<const char*>(&addr), len);
}

int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// A connection on `listener` is accepted within a second.
bool Accepts(int listener) {
  const int client = ConnectTo(LocalPort(listener));
  if (client < 0) return false;
  pollfd p{listener, POLLIN, 0};
  bool ok = poll(&p, 1, 1000) == 1;
  if (ok) {
    const int conn = accept(listener, nullptr, nullptr);
    ok = conn >= 0;
    if (conn >= 0) close(conn);
  }
  close(client);
  return ok;
}

int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Everything the peer sends until it closes (or 5 seconds pass).
std::string ReadUntilClose(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return out + "<timeout>";
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// A protocol header: magic "SPUG", type, zero, length.
std::string Header(uint16_t type, uint32_t length) {
  std::string h = "SPUG";
  h.push_back(static_cast<char>(type >> 8));
  h.push_back(static_cast<char>(type & 0xff));
  h += std::string(2, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) h.push_back(static_cast<char>(length >> shift));
  return h;
}

// An UpgradeServer handing over `listeners` (keys "pool 127.0.0.1:<port> 0"), counting commits.
class Fixture : public ::testing::Test {
 protected:
  absl::Status StartServer(UpgradeServer& server, const std::string& path) {
    return server.Start(
        path,
        [this] {
          asks_.fetch_add(1);
          std::vector<InheritedSocket> out;
          for (int fd : listeners_) {
            out.push_back({absl::StrCat("pool 127.0.0.1:", LocalPort(fd), " 0"), fd});
          }
          return out;
        },
        [this] {
          // The caller stops accepting and releases its pid file here: take some time, so that
          // a Commit() that returned early would be seen.
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          commits_.fetch_add(1);
        });
  }
  void TearDown() override {
    for (int fd : listeners_) {
      if (fd >= 0) close(fd);
    }
  }

  std::vector<int> listeners_;
  std::atomic<int> asks_{0};
  std::atomic<int> commits_{0};
};

TEST_F(Fixture, HandsOverTheSameListeningSocket) {
  listeners_.push_back(ListenTcp());
  const std::string key = absl::StrCat("pool 127.0.0.1:", LocalPort(listeners_[0]), " 0");
  const std::string path = SocketPath("same");
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->peer_pid(), getpid());
  ASSERT_EQ((*client)->sockets().size(), 1u);
  EXPECT_EQ((*client)->sockets()[0].key, key);
  EXPECT_EQ((*client)->Take("stats"), -1);
  const int fd = (*client)->Take(key);
  ASSERT_GE(fd, 0);
  EXPECT_EQ((*client)->Take(key), -1);  // taken once
  EXPECT_NE(fd, listeners_[0]);
  EXPECT_EQ(LocalAddress(fd), LocalAddress(listeners_[0]));
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  // The original closes (the old process exits): the received copy still accepts.
  close(listeners_[0]);
  listeners_[0] = fd;
  EXPECT_TRUE(Accepts(fd));
  EXPECT_EQ(asks_.load(), 1);
  EXPECT_EQ(commits_.load(), 0);
}

TEST_F(Fixture, CommitRunsOnCommitOnceThenAcknowledges) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("commit");
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  const absl::Status commit = (*client)->Commit(absl::Seconds(5));
  ASSERT_TRUE(commit.ok()) << commit;
  EXPECT_EQ(commits_.load(), 1);  // Commit() returned after on_commit() returned
  EXPECT_TRUE(server.committed());
  EXPECT_FALSE((*client)->Commit(absl::Seconds(1)).ok());  // once

  // The old process serves no more successors: the next one starts normally...
  auto next = UpgradeClient::Connect(path, absl::Seconds(1));
  EXPECT_TRUE(absl::IsNotFound(next.status())) << next.status();
  // ...and the successor takes the path over for the next upgrade, while the old process still
  // runs (draining); the old process's Stop() leaves the successor's file alone.
  UpgradeServer successor;
  ASSERT_TRUE(StartServer(successor, path).ok());
  server.Stop();
  EXPECT_TRUE(Exists(path));
  EXPECT_EQ(commits_.load(), 1);
  auto again = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->sockets().size(), 1u);
  successor.Stop();
  EXPECT_FALSE(Exists(path));
}

TEST_F(Fixture, SuccessorLeavingWithoutCommitChangesNothing) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("leave");
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  {
    auto client = UpgradeClient::Connect(path, absl::Seconds(5));
    ASSERT_TRUE(client.ok()) << client.status();
    ASSERT_EQ((*client)->sockets().size(), 1u);
    // Destroyed: the connection and the untaken fd close.
  }
  // The server notices the disconnect and serves the next successor, which commits.
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(commits_.load(), 0);
  EXPECT_FALSE(server.committed());
  EXPECT_TRUE(Accepts(listeners_[0]));  // the old process's own copy is untouched
  EXPECT_EQ(asks_.load(), 2);
  ASSERT_TRUE((*client)->Commit(absl::Seconds(5)).ok());
  EXPECT_EQ(commits_.load(), 1);
}

TEST_F(Fixture, NothingListeningIsNotFound) {
  const std::string path = SocketPath("missing");
  auto missing = UpgradeClient::Connect(path, absl::Seconds(1));
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  // A stale file (bound, never listened, closed) is "nobody listens": start normally too.
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  auto stale = UpgradeClient::Connect(path, absl::Seconds(1));
  EXPECT_TRUE(absl::IsNotFound(stale.status())) << stale.status();
  unlink(path.c_str());
}

TEST_F(Fixture, StaleSocketFileIsTakenOver) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("stale");
  // What a crashed proxy leaves: a socket file nobody listens on.
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  close(fd);
  ASSERT_TRUE(Exists(path));
  UpgradeServer server;
  const absl::Status status = StartServer(server, path);
  ASSERT_TRUE(status.ok()) << status;
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->sockets().size(), 1u);
}

TEST_F(Fixture, LiveSocketAndOtherFilesAreRefused) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("live");
  UpgradeServer first;
  ASSERT_TRUE(StartServer(first, path).ok());
  UpgradeServer second;
  const absl::Status refused = StartServer(second, path);
  EXPECT_TRUE(absl::IsAlreadyExists(refused)) << refused;
  EXPECT_THAT(std::string(refused.message()), HasSubstr(absl::StrCat("pid ", getpid())));
  second.Stop();  // never started: must not unlink the first one's file
  EXPECT_TRUE(Exists(path));
  // The first one still serves (the probe was a connection that left before HELLO).
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(asks_.load(), 1);

  // A regular file is never unlinked.
  const std::string file = SocketPath("regular");
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("x", f);
  std::fclose(f);
  UpgradeServer third;
  const absl::Status not_socket = StartServer(third, file);
  EXPECT_TRUE(absl::IsFailedPrecondition(not_socket)) << not_socket;
  EXPECT_TRUE(Exists(file));
  EXPECT_FALSE(StartServer(third, "").ok());
  EXPECT_FALSE(StartServer(third, std::string(200, 'x')).ok());
}

TEST_F(Fixture, OnlyOneSuccessorAtATime) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("one");
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  auto first = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("another successor"));
  ASSERT_TRUE((*first)->Commit(absl::Seconds(5)).ok());
  EXPECT_EQ(commits_.load(), 1);
  EXPECT_EQ(asks_.load(), 1);
}

TEST_F(Fixture, GarbageAndOversizedMessagesAreRefused) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("garbage");
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  const std::vector<std::string> garbage = {
      "GET / HTTP/1.0\r\n\r\n",                       // not our protocol
      Header(1, 1u << 30),                            // a HELLO announcing 1 GiB
      Header(1, 3) + "abc",                           // a HELLO of the wrong size
      Header(4, 0),                                   // COMMIT before HELLO
      Header(77, 0),                                  // unknown type
      Header(1, 8) + std::string(8, '\0'),            // version 0
      Header(1, 65537) + std::string(65537, 'x'),     // over the payload limit
  };
  for (const std::string& bytes : garbage) {
    const int fd = ConnectUnix(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT),
              static_cast<ssize_t>(bytes.size()));
    // Refused: an ERROR message, then the server closes.
    const std::string answer = ReadUntilClose(fd);
    EXPECT_EQ(answer.substr(0, 4), "SPUG") << answer;
    close(fd);
  }
  // A HELLO that carries a descriptor is refused as well.
  {
    const int fd = ConnectUnix(path);
    ASSERT_GE(fd, 0);
    std::string hello = Header(1, 8);
    hello += std::string("\0\0\0\1\0\0\0\1", 8);
    iovec iov{&hello[0], hello.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    const int passed = listeners_[0];
    std::memcpy(CMSG_DATA(cmsg), &passed, sizeof(int));
    ASSERT_EQ(sendmsg(fd, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
    EXPECT_THAT(ReadUntilClose(fd), HasSubstr("descriptors"));
    close(fd);
  }
  EXPECT_EQ(asks_.load(), 0);
  EXPECT_EQ(commits_.load(), 0);
  // Still serving.
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->sockets().size(), 1u);
}

TEST_F(Fixture, SilentPeersTimeOut) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("silent");
  UpgradeServer server;
  server.set_hello_timeout(absl::Milliseconds(300));
  server.set_commit_timeout(absl::Milliseconds(300));
  ASSERT_TRUE(StartServer(server, path).ok());
  // A successor that never says HELLO is dropped after the hello timeout.
  const int fd = ConnectUnix(path);
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadUntilClose(fd).substr(0, 4), "SPUG");  // ERROR, then closed
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  close(fd);
  // One that never commits is dropped after the commit timeout: its Commit() fails, nothing
  // changed in the old process.
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_FALSE((*client)->Commit(absl::Seconds(2)).ok());
  EXPECT_EQ(commits_.load(), 0);

  // The other way round: a "proxy" that accepts and never answers.
  const std::string mute_path = SocketPath("mute");
  const int mute = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, mute_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(mute, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(mute, 4), 0);
  const auto before = std::chrono::steady_clock::now();
  auto stuck = UpgradeClient::Connect(mute_path, absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(stuck.status())) << stuck.status();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
  close(mute);
  unlink(mute_path.c_str());
}

TEST_F(Fixture, GarbageFromTheOldProcessIsRefused) {
  const std::string path = SocketPath("liar");
  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  const std::vector<std::string> answers = {
      "+OK\r\n" + std::string(20, 'x'),
      Header(2, 1u << 30),
      // An OFFER of version 1 with 5000 sockets (over the limit).
      Header(2, 12) + std::string("\0\0\0\1\0\0\0\1\0\0\x13\x88", 12),
      // An OFFER of 1 socket, then a SOCKETS message without its descriptor.
      Header(2, 12) + std::string("\0\0\0\1\0\0\0\1\0\0\0\1", 12) + Header(3, 7) +
          std::string("\0\0\0\1\0\1k", 7),
  };
  for (const std::string& answer : answers) {
    std::thread fake([&] {
      const int conn = accept(listener, nullptr, nullptr);
      char hello[20];
      (void)!read(conn, hello, sizeof(hello));
      (void)!send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
      ReadUntilClose(conn);
      close(conn);
    });
    auto client = UpgradeClient::Connect(path, absl::Seconds(2));
    EXPECT_TRUE(absl::IsDataLoss(client.status())) << client.status();
    fake.join();
  }
  close(listener);
  unlink(path.c_str());
}

TEST_F(Fixture, StopUnlinksOnlyItsOwnPath) {
  const std::string path = SocketPath("own");
  {
    UpgradeServer server;
    ASSERT_TRUE(StartServer(server, path).ok());
    EXPECT_TRUE(Exists(path));
    server.Stop();
    EXPECT_FALSE(Exists(path));
    server.Stop();  // twice is fine
  }
  // Somebody else's file replaced ours: Stop() leaves it.
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  ASSERT_EQ(unlink(path.c_str()), 0);
  const int other = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(other, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  server.Stop();
  EXPECT_TRUE(Exists(path));
  close(other);
  unlink(path.c_str());
}

TEST_F(Fixture, TwoHundredSocketsInOneHandoff) {
  for (int i = 0; i < 200; ++i) listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("many");
  UpgradeServer server;
  ASSERT_TRUE(StartServer(server, path).ok());
  auto client = UpgradeClient::Connect(path, absl::Seconds(10));
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_EQ((*client)->sockets().size(), 200u);
  for (int& original : listeners_) {
    const std::string key = absl::StrCat("pool 127.0.0.1:", LocalPort(original), " 0");
    const int fd = (*client)->Take(key);
    ASSERT_GE(fd, 0) << key;
    EXPECT_EQ(LocalAddress(fd), LocalAddress(original)) << key;
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    close(original);
    original = fd;
  }
  EXPECT_TRUE(Accepts(listeners_.front()));
  EXPECT_TRUE(Accepts(listeners_.back()));
  ASSERT_TRUE((*client)->Commit(absl::Seconds(5)).ok());
  EXPECT_EQ(commits_.load(), 1);
}

// Accepts on `listener` (nonblocking) until `stop`, answering "+PONG\r\n" and closing.
void AcceptLoop(int listener, const std::atomic<bool>& stop, std::atomic<int>& accepted) {
  while (!stop) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 20) != 1) continue;
    const int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;  // the other process took it
    (void)!send(conn, "+PONG\r\n", 7, MSG_NOSIGNAL);
    close(conn);
    ++accepted;
  }
}

// Stops and joins a thread when the test ends early (a failed ASSERT).
struct Joiner {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~Joiner() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

// The whole point, at the library's level: an old and a new "process" (accept loops on their own
// copies of the socket) with clients connecting in a tight loop throughout the handoff, the
// commit, and the old copy's close. Not one connection is refused or goes unanswered.
TEST_F(Fixture, HandoffUnderAConnectLoopRefusesNothing) {
  listeners_.push_back(ListenTcp());
  const int port = LocalPort(listeners_[0]);
  ASSERT_EQ(fcntl(listeners_[0], F_SETFL, fcntl(listeners_[0], F_GETFL) | O_NONBLOCK), 0);
  std::atomic<bool> old_stop{false};
  std::atomic<int> old_accepted{0};
  std::thread old_loop([&] { AcceptLoop(listeners_[0], old_stop, old_accepted); });
  Joiner old_joiner{old_stop, old_loop};

  std::atomic<bool> clients_stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  std::thread clients([&] {
    while (!clients_stop) {
      const int fd = ConnectTo(port);
      if (fd < 0) {
        ++bad;
        continue;
      }
      char buf[8];
      size_t got = 0;
      while (got < 7) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 2000) != 1) break;
        const ssize_t n = read(fd, buf + got, 7 - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      close(fd);
      if (got == 7 && std::string(buf, 7) == "+PONG\r\n") {
        ++ok;
      } else {
        ++bad;
      }
    }
  });
  Joiner clients_joiner{clients_stop, clients};
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  const std::string path = SocketPath("loop");
  UpgradeServer server;
  ASSERT_TRUE(server
                  .Start(
                      path,
                      [&] {
                        return std::vector<InheritedSocket>{{"pool 127.0.0.1 0", listeners_[0]}};
                      },
                      [&] {
                        old_stop = true;  // stop accepting, and really stopped on return
                        old_loop.join();
                      })
                  .ok());
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  ASSERT_TRUE(client.ok()) << client.status();
  const int fd = (*client)->Take("pool 127.0.0.1 0");
  ASSERT_GE(fd, 0);
  std::atomic<bool> new_stop{false};
  std::atomic<int> new_accepted{0};
  std::thread new_loop([&] { AcceptLoop(fd, new_stop, new_accepted); });
  Joiner new_joiner{new_stop, new_loop};
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both accept
  ASSERT_TRUE((*client)->Commit(absl::Seconds(5)).ok());
  const int old_total = old_accepted.load();
  close(listeners_[0]);  // the old process exits
  listeners_[0] = fd;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  clients_stop = true;
  clients.join();
  new_stop = true;
  new_loop.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(ok.load(), 100);
  EXPECT_GT(old_total, 0);
  EXPECT_GT(new_accepted.load(), 0);
  EXPECT_EQ(old_accepted.load(), old_total);  // nothing accepted by the old one after the commit
  EXPECT_EQ(ok.load(), old_accepted.load() + new_accepted.load());
}

// SO_PEERCRED: a successor that does not run as the uid the server expects is refused before
// anything is handed over. (A child under another uid cannot be made inside bazel's sandbox,
// whose user namespace maps root alone, so the server is told to expect another uid instead.)
TEST_F(Fixture, OtherUidIsRefused) {
  listeners_.push_back(ListenTcp());
  const std::string path = SocketPath("uid");
  UpgradeServer server;
  server.set_expected_uid(geteuid() + 1);
  ASSERT_TRUE(StartServer(server, path).ok());
  auto client = UpgradeClient::Connect(path, absl::Seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(client.status())) << client.status();
  EXPECT_THAT(std::string(client.status().message()),
              HasSubstr(absl::StrCat("uid ", geteuid(), " is not the proxy's uid ", geteuid() + 1)));
  EXPECT_EQ(asks_.load(), 0);
  EXPECT_EQ(commits_.load(), 0);
  // The same successor under the expected uid is served.
  UpgradeServer ours;
  const std::string our_path = SocketPath("uid-ours");
  ASSERT_TRUE(StartServer(ours, our_path).ok());
  auto served = UpgradeClient::Connect(our_path, absl::Seconds(5));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(asks_.load(), 1);
}

}  // namespace
}  // namespace proxy::test
