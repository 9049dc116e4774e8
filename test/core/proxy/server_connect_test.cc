// The connect steps ServerConnection and HealthProbe share (core/proxy/server_connect.h), on
// real sockets of this machine: a unix socket connects at once, a missing one fails at once,
// TCP sockets get TCP_NODELAY and connect in the background.
#include "core/proxy/server_connect.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace proxy {
namespace {

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strncpy(un.sun_path, path.c_str(), sizeof(un.sun_path) - 1);
  return un;
}

// A path in a new directory under /tmp (TEST_TMPDIR is too long for sun_path's 108 bytes).
std::string TempPath(const char* name) {
  char dir[] = "/tmp/server_connect_test.XXXXXX";
  if (mkdtemp(dir) == nullptr) return std::string("/tmp/") + name;
  return std::string(dir) + "/" + name;
}

TEST(ServerConnectTest, AUnixSocketConnectsAtOnce) {
  const std::string path = TempPath("server.sock");
  const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  const sockaddr_un address = UnixAddress(path);
  ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 4), 0);

  const int fd = OpenServerSocket(AF_UNIX);
  ASSERT_GE(fd, 0);
  EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(ConnectSocket(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  const int accepted = accept(listener, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  close(accepted);
  close(fd);
  close(listener);
  unlink(path.c_str());
  rmdir(path.substr(0, path.rfind('/')).c_str());
}

TEST(ServerConnectTest, AMissingUnixSocketFailsAtOnceWithItsErrno) {
  const std::string path = TempPath("missing.sock");
  const sockaddr_un address = UnixAddress(path);
  const int fd = OpenServerSocket(AF_UNIX);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ConnectSocket(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)),
            ENOENT);
  close(fd);
  rmdir(path.substr(0, path.rfind('/')).c_str());
}

TEST(ServerConnectTest, TcpSocketsHaveNoDelayAndConnectInTheBackground) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // any free port
  ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  socklen_t len = sizeof(address);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &len), 0);
  ASSERT_EQ(listen(listener, 4), 0);

  const int fd = OpenServerSocket(AF_INET);
  ASSERT_GE(fd, 0);
  int nodelay = 0;
  socklen_t size = sizeof(nodelay);
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &size), 0);
  EXPECT_NE(nodelay, 0);
  const int rc = ConnectSocket(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  EXPECT_TRUE(rc == 0 || rc == EINPROGRESS) << std::strerror(rc);
  // The listener's backlog takes it: a blocking accept returns it.
  const int accepted = accept(listener, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  close(accepted);
  close(fd);
  close(listener);
}

}  // namespace
}  // namespace proxy
