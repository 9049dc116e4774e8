// EvBuffer's memory (core/buffer/evbuffer_buffer.h): an empty buffer can be given back, a
// read that gets nothing leaves no reservation behind, and bytes are never dropped by either.
#include "core/buffer/evbuffer_buffer.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"

namespace proxy {
namespace {

class SocketPair {
 public:
  SocketPair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0); }
  ~SocketPair() {
    if (fds_[0] >= 0) close(fds_[0]);
    if (fds_[1] >= 0) close(fds_[1]);
  }
  int reader() const { return fds_[0]; }
  int writer() const { return fds_[1]; }
  void CloseWriter() {
    close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

std::string Contents(const EvBuffer& buffer) {
  std::string out(buffer.Length(), '\0');
  buffer.CopyOut(0, out.size(), out.data());
  return out;
}

TEST(EvBufferTest, ReleaseFreesOnlyAnEmptyBuffer) {
  EvBuffer buffer;
  EXPECT_FALSE(buffer.allocated()) << "made on first use";
  buffer.Append("partial request");
  buffer.Release();
  ASSERT_TRUE(buffer.allocated()) << "bytes are never released";
  EXPECT_EQ(Contents(buffer), "partial request");
  buffer.Drain(buffer.Length());
  buffer.Release();
  EXPECT_FALSE(buffer.allocated());
  // Usable again afterwards.
  buffer.Append("next");
  EXPECT_EQ(Contents(buffer), "next");
}

TEST(EvBufferTest, AReadOfNothingIntoAnEmptyBufferKeepsNoReservation) {
  SocketPair pair;
  EvBuffer buffer;
  // Would block: nothing read, nothing kept (the 16 KiB reservation is gone).
  errno = 0;
  EXPECT_EQ(buffer.ReadFrom(pair.reader(), 16384), -1);
  EXPECT_EQ(errno, EAGAIN) << "the read's errno is kept for the caller";
  EXPECT_FALSE(buffer.allocated());
  // Bytes, then the peer's close: the bytes stay, the EOF is reported.
  ASSERT_EQ(write(pair.writer(), "GET k\r\n", 7), 7);
  EXPECT_EQ(buffer.ReadFrom(pair.reader(), 16384), 7);
  pair.CloseWriter();
  EXPECT_EQ(buffer.ReadFrom(pair.reader(), 16384), 0);
  ASSERT_TRUE(buffer.allocated());
  EXPECT_EQ(Contents(buffer), "GET k\r\n");
  // Drained, the next EOF read leaves nothing allocated.
  buffer.Drain(buffer.Length());
  EXPECT_EQ(buffer.ReadFrom(pair.reader(), 16384), 0);
  EXPECT_FALSE(buffer.allocated());
}

}  // namespace
}  // namespace proxy
