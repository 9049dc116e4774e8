// Feedings and result names for the decoder tests.
#include "test/fakes/decoder_feeding.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace proxy::test {

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

}  // namespace proxy::test
