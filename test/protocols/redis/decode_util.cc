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

const char* ResultName(DecodeResult result) {
  switch (result) {
    case DecodeResult::kMessage:
      return "message";
    case DecodeResult::kNeedMoreData:
      return "need-more";
    case DecodeResult::kInvalidRequest:
      return "invalid";
    case DecodeResult::kProtocolError:
      return "protocol-error";
  }
  return "?";
}

const char* KindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::kRead:
      return "read";
    case CommandKind::kWrite:
      return "write";
    case CommandKind::kMultiKey:
      return "multikey";
    case CommandKind::kLocal:
      return "local";
    case CommandKind::kUnsupported:
      return "unsupported";
  }
  return "?";
}

// Runs `decoder` over `wire` fed as described; `describe` renders each result.
template <class Decoder, class Message, class Describe>
std::vector<std::string> Feed(Decoder& decoder, absl::string_view wire, const Feeding& feeding,
                              Describe describe) {
  std::vector<std::string> lines;
  proxy::test::StringBuffer buffer("", feeding.chunk);
  Message message;
  std::vector<size_t> ends = feeding.cuts;
  ends.push_back(wire.size());
  size_t appended = 0;
  for (const size_t end : ends) {
    if (end < appended) {
      continue;
    }
    buffer.Append(wire.substr(appended, end - appended));
    appended = end;
    for (;;) {
      std::string error;
      const DecodeResult result = decoder.Decode(buffer, &message, &error);
      if (result == DecodeResult::kNeedMoreData) {
        break;
      }
      lines.push_back(describe(result, message, error));
      if (result == DecodeResult::kProtocolError) {
        // A second call must report the same failure.
        std::string again;
        if (decoder.Decode(buffer, &message, &again) != DecodeResult::kProtocolError ||
            again != error) {
          lines.push_back("protocol error not sticky");
        }
        return lines;
      }
      buffer.Drain(message.wire_size);
      // The core reuses message objects: make sure nothing stale leaks into the next one.
      message.wire_size = 12345;
    }
  }
  return lines;
}

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
  return Feed<RedisRequestDecoder, Request>(decoder, wire, feeding, DescribeRequest);
}

std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits) {
  RedisReplyDecoder decoder(limits);
  return Feed<RedisReplyDecoder, Reply>(decoder, wire, feeding, DescribeReply);
}

std::vector<Feeding> AllFeedings(size_t wire_size, size_t max_split_size) {
  std::vector<Feeding> feedings;
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < wire_size; ++i) {
    every_byte.push_back(i);
  }
  for (size_t chunk = 0; chunk <= 7; ++chunk) {
    feedings.push_back(Feeding{{}, chunk});
    feedings.push_back(Feeding{every_byte, chunk});
  }
  if (wire_size <= max_split_size) {
    for (size_t split = 1; split < wire_size; ++split) {
      feedings.push_back(Feeding{{split}, 0});
      feedings.push_back(Feeding{{split}, 3});
    }
  }
  return feedings;
}

std::string FeedingName(const Feeding& feeding) {
  std::string cuts;
  if (feeding.cuts.size() > 3) {
    cuts = absl::StrCat(feeding.cuts.size(), " cuts");
  } else {
    cuts = absl::StrCat("cuts at [", absl::StrJoin(feeding.cuts, ","), "]");
  }
  return absl::StrCat(cuts, ", chunk ", feeding.chunk);
}

}  // namespace proxy::protocols::redis::test
