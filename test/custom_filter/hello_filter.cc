// Validation, the precomputed answer and the per-request check of the `hello` test filter.
#include "test/custom_filter/hello_filter.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace proxy::test::custom_filter {
namespace {

// Longest memcache key.
constexpr size_t kMaxKeyBytes = 250;

bool Printable(absl::string_view text, bool allow_space) {
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || (u == 0x20 && !allow_space)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::shared_ptr<HelloAnswer>> MakeHelloAnswer(const v1::HelloConfig& config,
                                                             absl::string_view pool_name,
                                                             absl::string_view protocol) {
  auto answer = std::make_shared<HelloAnswer>();
  answer->magic_key = config.magic_key().empty() ? std::string(kDefaultMagicKey)
                                                 : config.magic_key();
  if (!Printable(answer->magic_key, /*allow_space=*/false) ||
      answer->magic_key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("magic_key: '", answer->magic_key,
                     "' is not a usable key (one word of printable ASCII, at most ",
                     kMaxKeyBytes, " bytes)"));
  }
  const std::string greeting =
      config.greeting().empty() ? std::string(kDefaultGreeting) : config.greeting();
  if (!Printable(greeting, /*allow_space=*/true)) {
    return absl::InvalidArgumentError("greeting: must be printable ASCII on one line");
  }
  const std::string text = absl::StrCat(greeting, " ", pool_name);
  if (protocol == "redis") {
    answer->reply = absl::StrCat("$", text.size(), "\r\n", text, "\r\n");
  } else {
    answer->reply =
        absl::StrCat("VALUE ", answer->magic_key, " 0 ", text.size(), "\r\n", text, "\r\nEND\r\n");
  }
  return answer;
}

FilterStatus HelloFilter::OnRequest(Request& request, FilterCallbacks& callbacks) {
  if (absl::EqualsIgnoreCase(request.command, "get") && request.KeyCount() == 1 &&
      request.Key(0) == answer_->magic_key) {
    if (answer_->answered != nullptr) answer_->answered->Add(1);
    callbacks.SendLocalReply(answer_->reply);
    return FilterStatus::kStop;
  }
  return FilterStatus::kContinue;
}

}  // namespace proxy::test::custom_filter
