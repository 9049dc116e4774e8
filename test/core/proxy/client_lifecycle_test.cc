// ClientLifecycle (core/proxy/client_lifecycle.h): when a client connection reads and when it
// closes, without a socket.
#include "core/proxy/client_lifecycle.h"

#include "gtest/gtest.h"

namespace proxy {
namespace {

using State = ClientLifecycle::State;
using Step = ClientLifecycle::Step;

TEST(ClientLifecycleTest, OpenReadsAndNeverClosesByItself) {
  ClientLifecycle life;
  EXPECT_EQ(life.state(), State::kOpen);
  EXPECT_TRUE(life.input_open());
  EXPECT_FALSE(life.draining());
  EXPECT_FALSE(life.closed());
  // An open connection stays open, replies owed or not.
  EXPECT_EQ(life.NextStep(/*replies_owed=*/false), Step::kKeepOpen);
  EXPECT_EQ(life.NextStep(/*replies_owed=*/true), Step::kKeepOpen);
}

TEST(ClientLifecycleTest, DrainingStillReadsUntilTheInputCloses) {
  ClientLifecycle life;
  EXPECT_TRUE(life.Drain());
  EXPECT_EQ(life.state(), State::kDraining);
  EXPECT_TRUE(life.input_open());  // the requests in progress are still received
  EXPECT_TRUE(life.draining());
  EXPECT_EQ(life.NextStep(false), Step::kKeepOpen);
  EXPECT_TRUE(life.Drain());  // again: no change
  EXPECT_EQ(life.state(), State::kDraining);
  life.CloseInput();
  EXPECT_EQ(life.state(), State::kInputClosed);
  EXPECT_FALSE(life.input_open());
  EXPECT_FALSE(life.draining());
}

TEST(ClientLifecycleTest, InputClosedClosesOnceNothingIsOwed) {
  ClientLifecycle life;
  life.CloseInput();  // EOF, QUIT, a protocol error or a refused connection
  EXPECT_EQ(life.state(), State::kInputClosed);
  EXPECT_FALSE(life.input_open());
  EXPECT_EQ(life.NextStep(/*replies_owed=*/true), Step::kWaitForReplies);
  EXPECT_EQ(life.NextStep(/*replies_owed=*/false), Step::kCloseNow);
}

TEST(ClientLifecycleTest, DrainAfterTheInputClosedKeepsItClosed) {
  ClientLifecycle life;
  life.CloseInput();
  EXPECT_TRUE(life.Drain());  // still to be closed by its replies: Drain() goes on
  EXPECT_EQ(life.state(), State::kInputClosed);
  EXPECT_FALSE(life.input_open());
}

TEST(ClientLifecycleTest, CloseIsFinalFromEveryState) {
  for (int start = 0; start < 3; ++start) {
    ClientLifecycle life;
    if (start == 1) life.Drain();
    if (start == 2) life.CloseInput();
    EXPECT_TRUE(life.Close()) << start;
    EXPECT_TRUE(life.closed());
    EXPECT_FALSE(life.input_open());
    // A second close does nothing, and nothing reopens a closed connection.
    EXPECT_FALSE(life.Close());
    EXPECT_FALSE(life.Drain());
    life.CloseInput();
    EXPECT_EQ(life.state(), State::kClosed) << start;
    EXPECT_EQ(life.NextStep(false), Step::kKeepOpen);  // nothing more to close
  }
}

}  // namespace
}  // namespace proxy
