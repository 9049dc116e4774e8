// Decoder test driver shared by the protocol tests: feeds a byte string to a resumable decoder
// in every way the core might (all at once, one byte at a time, every 2-way split, small
// chunks) and renders each result as a comparable line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "test/fakes/string_buffer.h"

namespace proxy::test {

// How the bytes reach the decoder: appended in pieces ending at `cuts` (ascending offsets;
// empty = all at once) into a StringBuffer reporting slices of at most `chunk` bytes (0 = one
// slice). After each append Decode() runs until kNeedMoreData or a protocol error, and every
// decoded message's wire_size bytes are drained, as the core does.
struct Feeding {
  std::vector<size_t> cuts;
  size_t chunk = 0;
};

// Every feeding the parser tests use: all at once with chunks 0..7, one byte at a time with
// chunks 0..7, and every 2-way split (chunks 0 and 3). Long inputs (> `max_split_size` bytes)
// skip the 2-way splits.
std::vector<Feeding> AllFeedings(size_t wire_size, size_t max_split_size = 4096);
// A human-readable name for a feeding, for failure messages.
std::string FeedingName(const Feeding& feeding);

const char* ResultName(DecodeResult result);
const char* KindName(CommandKind kind);

// Runs `decoder` over `wire` fed as described; `describe(result, message, error)` renders each
// result; `poison(&message)` scribbles over a reused message so stale fields would show.
template <class Decoder, class Message, class Describe, class Poison>
std::vector<std::string> FeedDecoder(Decoder& decoder, absl::string_view wire,
                                     const Feeding& feeding, Describe describe, Poison poison) {
  std::vector<std::string> lines;
  StringBuffer buffer("", feeding.chunk);
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
      std::string error = "stale";
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
      poison(&message);
    }
  }
  return lines;
}

}  // namespace proxy::test
