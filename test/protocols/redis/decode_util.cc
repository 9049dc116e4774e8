// Feeding helpers for the redis decoder tests.
#include "test/protocols/redis/decode_util.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "protocols/redis/reply_decoder.h"
#include "protocols/redis/request_decoder.h"
#include "test/fakes/string_buffer.h"

namespace proxy::protocols::redis::test {
namespace {

using ::proxy::test::FeedDecoder;
using ::proxy::test::KindName;
using ::proxy::test::ResultName;

}  // namespace

std::string DescribeRequest(DecodeResult result, const Request& request, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat(ResultName(result), " error=", error);
  }
  std::vector<std::string> args;
  for (size_t i = 0; i < request.args.size(); ++i) {
    args.emplace_back(request.args[i]);
  }
  std::string line =
      absl::StrCat(ResultName(result), " ", request.command.empty() ? "-" : request.command, " ",
                   KindName(request.kind), " wire=", request.wire_size);
  if (request.synthetic_key) {
    line += " synthetic";
  }
  if (request.colocated_keys) {
    line += " colocated";
  }
  if (request.key_step != 1) {
    absl::StrAppend(&line, " step=", request.key_step);
  }
  absl::StrAppend(&line, " args=[", absl::StrJoin(args, "|"), "]");
  if (result == DecodeResult::kInvalidRequest) {
    absl::StrAppend(&line, " error=", error);
  }
  return line;
}

std::string DescribeReply(DecodeResult result, const Reply& reply, const std::string& error) {
  if (result == DecodeResult::kProtocolError) {
    return absl::StrCat(ResultName(result), " error=", error);
  }
  return absl::StrCat(ResultName(result), " wire=", reply.wire_size, reply.is_error ? " error" : "",
                      reply.server_failure ? " failure" : "");
}

std::vector<std::string> DecodeRequests(absl::string_view wire, const Feeding& feeding,
                                        const DecoderLimits& limits) {
  RedisRequestDecoder decoder(limits);
  return FeedDecoder<RedisRequestDecoder, Request>(
      decoder, wire, feeding, DescribeRequest, [](Request* r) { r->wire_size = 12345; });
}

std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits, bool resp3) {
  RedisReplyDecoder decoder(limits, resp3);
  return FeedDecoder<RedisReplyDecoder, Reply>(
      decoder, wire, feeding, DescribeReply, [](Reply* r) { r->wire_size = 12345; });
}

}  // namespace proxy::protocols::redis::test
