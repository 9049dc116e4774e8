// Test helpers for the redis decoders: decode a byte string with every kind of chunking and
// feeding, and describe each result as one comparable line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/codec.h"

namespace proxy::protocols::redis::test {

// One line per decoded request: "<result> <command> <kind> wire=<n> [flags] args=[a|b]" or
// "<result> error=<text>" for protocol errors.
std::string DescribeRequest(DecodeResult result, const Request& request, const std::string& error);
std::string DescribeReply(DecodeResult result, const Reply& reply, const std::string& error);

// How the bytes reach the decoder: appended in pieces ending at `cuts` (ascending offsets;
// empty = all at once) into a StringBuffer reporting slices of at most `chunk` bytes (0 = one
// slice). After each append Decode() runs until kNeedMoreData or a protocol error, and every
// decoded message's wire_size bytes are drained, as the core does.
struct Feeding {
  std::vector<size_t> cuts;
  size_t chunk = 0;
};

std::vector<std::string> DecodeRequests(absl::string_view wire, const Feeding& feeding,
                                        const DecoderLimits& limits = DecoderLimits());
std::vector<std::string> DecodeReplies(absl::string_view wire, const Feeding& feeding,
                                       const DecoderLimits& limits = DecoderLimits());

// Every feeding the parser tests use: all at once with chunks 0..7, one byte at a time with
// chunks 0..7, and every 2-way split (chunks 0 and 3). Long inputs (> `max_split_size` bytes)
// skip the 2-way splits.
std::vector<Feeding> AllFeedings(size_t wire_size, size_t max_split_size = 4096);

// A human-readable name for a feeding, for failure messages.
std::string FeedingName(const Feeding& feeding);

}  // namespace proxy::protocols::redis::test
