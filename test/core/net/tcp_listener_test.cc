// OpenTcpListenerSocket on 127.0.0.1: a working listener, the failed step of each error, and
// SO_REUSEPORT only when asked for.
#include "core/net/tcp_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"

namespace proxy {
namespace {

uint16_t BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  return ntohs(addr.sin_port);
}

// A listener on 127.0.0.1, on a port the kernel picks.
TcpListenerSpec Loopback() {
  TcpListenerSpec spec;
  spec.host = "127.0.0.1";
  spec.backlog = 4;
  return spec;
}

// The listening socket, or -1 after a failed expectation that names the reason.
int OpenOk(const TcpListenerSpec& spec) {
  TcpListenerFailure failure;
  const int fd = OpenTcpListenerSocket(spec, &failure);
  EXPECT_GE(fd, 0) << failure.reason;
  return fd;
}

TEST(TcpListenerTest, ListensAndAcceptsAConnection) {
  const int fd = OpenOk(Loopback());
  ASSERT_GE(fd, 0);
  EXPECT_NE(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(BoundPort(fd));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const int accepted = accept(fd, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  close(accepted);
  close(client);
  close(fd);
}

TEST(TcpListenerTest, BlockingWhenAskedAndEachFailureNamesItsStep) {
  TcpListenerSpec spec = Loopback();
  spec.nonblocking = false;
  const int fd = OpenOk(spec);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);

  // The same port again: the first socket has no SO_REUSEPORT, so even a second one asking for
  // it cannot bind there.
  TcpListenerFailure failure;
  spec.port = BoundPort(fd);
  spec.reuseport = true;
  EXPECT_EQ(OpenTcpListenerSocket(spec, &failure), -1);
  EXPECT_EQ(failure.step, TcpListenerFailure::Step::kBindOrListen);
  EXPECT_EQ(failure.error, EADDRINUSE);
  EXPECT_FALSE(failure.reason.empty());
  close(fd);

  spec.host = "not an address";
  EXPECT_EQ(OpenTcpListenerSocket(spec, &failure), -1);
  EXPECT_EQ(failure.step, TcpListenerFailure::Step::kResolve);
  EXPECT_FALSE(failure.reason.empty());
}

TEST(TcpListenerTest, ReuseportLetsTwoListenersShareAnAddress) {
  TcpListenerSpec spec = Loopback();
  spec.reuseport = true;
  const int first = OpenOk(spec);
  ASSERT_GE(first, 0);
  spec.port = BoundPort(first);
  const int second = OpenOk(spec);
  close(second);
  close(first);
}

}  // namespace
}  // namespace proxy
