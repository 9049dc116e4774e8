// Test helpers for the redis decoders: decode a byte string with every kind of chunking and
// feeding, and describe each result as one comparable line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "test/fakes/decoder_feeding.h"

namespace proxy::protocols::redis::test {

// One line per decoded request: "<result> <command> <kind> wire=<n> [flags] args=[a|b]" or
// "<result> error=<text>" for protocol errors.
std::string DescribeRequest(DecodeResult result, const Request& request, const std::string& error);
std::string DescribeReply(DecodeResult result, const Reply& reply, const std::string& error);

using ::proxy::test::AllFeedings;
using ::proxy::test::Feeding;
using ::proxy::test::FeedingName;

std::vector<std::string> DecodeRequests(absl::string_view wire, const Feeding& feeding,
                                        const DecoderLimits& limits = DecoderLimits());
// `resp3`: a decoder of a RESP3 server connection (RedisReplyDecoder's resp3).
std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits = DecoderLimits(),
                                       bool resp3 = false);



}  // namespace proxy::protocols::redis::test
