// Tests of the memcache session: mn is answered locally, quit closes without a reply, admin
// commands are refused, and everything else is forwarded.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocols/memcache/memcache_codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::memcache::test {
namespace {

// Decodes `wire` (one request) and runs it through a fresh session of the codec.
LocalAction RunSession(absl::string_view wire, std::string* reply) {
  MemcacheCodec codec;
  RequestDecoderPtr decoder = codec.NewRequestDecoder(DecoderLimits());
  proxy::test::StringBuffer buffer(wire);
  Request request;
  std::string error;
  EXPECT_EQ(decoder->Decode(buffer, &request, &error), DecodeResult::kMessage) << error;
  SessionPtr session = codec.NewSession();
  return session->OnRequest(request, reply);
}

TEST(MemcacheSessionTest, MnIsAnsweredLocally) {
  std::string reply;
  EXPECT_EQ(RunSession("mn\r\n", &reply), LocalAction::kReply);
  EXPECT_EQ(reply, "MN\r\n");
}

TEST(MemcacheSessionTest, QuitClosesWithoutAReply) {
  std::string reply;
  EXPECT_EQ(RunSession("quit\r\n", &reply), LocalAction::kReplyThenClose);
  EXPECT_EQ(reply, "");
}

TEST(MemcacheSessionTest, EverythingElseIsForwarded) {
  for (const char* wire : {"get a\r\n", "get a b\r\n", "set k 0 0 1\r\nx\r\n", "version\r\n",
                           "mg k v\r\n", "ms k 1 T0\r\nx\r\n", "delete k noreply\r\n"}) {
    std::string reply;
    EXPECT_EQ(RunSession(wire, &reply), LocalAction::kForward) << wire;
    EXPECT_EQ(reply, "") << wire;
  }
}

TEST(MemcacheSessionTest, AdminCommandsAreRefusedWhateverTheFilters) {
  // The session runs before the pool's filter chain: these never reach a shared connection.
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"flush_all\r\n",
       "CLIENT_ERROR unsupported command 'flush_all': keys are spread over several servers; run "
       "it on each server directly\r\n"},
      {"watch fetchers\r\n",
       "CLIENT_ERROR unsupported command 'watch': it would turn the server connection the proxy "
       "shares into a log stream\r\n"},
      {"shutdown\r\n",
       "CLIENT_ERROR unsupported command 'shutdown': it would stop a server every client of the "
       "pool uses\r\n"},
      {"stats items\r\n",
       "CLIENT_ERROR unsupported command 'stats': it addresses one server, not the pool; run it "
       "on each server directly\r\n"},
      {"verbosity 1\r\n",
       "CLIENT_ERROR unsupported command 'verbosity': it addresses one server, not the pool; run "
       "it on each server directly\r\n"},
  };
  for (const auto& [wire, expected] : cases) {
    std::string reply;
    EXPECT_EQ(RunSession(wire, &reply), LocalAction::kRefused) << wire;
    EXPECT_EQ(reply, expected);
  }
}

TEST(MemcacheSessionTest, AnUnknownLocalRequestGetsError) {
  MemcacheSession session;
  Request request;
  request.kind = CommandKind::kLocal;
  std::string reply;
  EXPECT_EQ(session.OnRequest(request, &reply), LocalAction::kReply);
  EXPECT_EQ(reply, "ERROR\r\n");
}

}  // namespace
}  // namespace proxy::protocols::memcache::test
