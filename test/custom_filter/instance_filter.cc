// The test-only `instance` filter: it says it keeps no client state
// (FilterFactory::KeepsClientState), and answers `GET __proxy_instance__` with the number of the
// filter object that served the request (filters are numbered as they are made, process-wide).
// custom_filter_test.sh uses it to see that one object serves every client of a pool whose
// whole chain keeps no client state, and that each client gets its own otherwise.
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "api/codec.h"
#include "api/filter.h"
#include "api/registry.h"

namespace proxy::test::custom_filter {
namespace {

constexpr absl::string_view kInstanceKey = "__proxy_instance__";

std::atomic<int> made{0};

class InstanceFilter final : public Filter {
 public:
  InstanceFilter() : number_(++made) {}

  FilterStatus OnRequest(Request& request, FilterCallbacks& callbacks) override {
    if (request.command != "GET" && request.command != "get") return FilterStatus::kContinue;
    if (request.KeyCount() != 1 || request.Key(0) != kInstanceKey) return FilterStatus::kContinue;
    const std::string text = absl::StrCat(number_);
    callbacks.SendLocalReply(absl::StrCat("$", text.size(), "\r\n", text, "\r\n"));
    return FilterStatus::kStop;
  }

 private:
  const int number_;
};

class InstanceFactory final : public FilterFactory {
 public:
  absl::string_view Name() const override { return "instance"; }
  absl::string_view Description() const override {
    return "test only: answers GET __proxy_instance__ with the number of the filter object";
  }
  std::unique_ptr<google::protobuf::Message> NewConfigProto() const override { return nullptr; }
  absl::StatusOr<FilterFactoryFn> Create(const google::protobuf::Message&,
                                         FactoryContext&) const override {
    return FilterFactoryFn([]() -> FilterPtr { return std::make_unique<InstanceFilter>(); });
  }
  bool KeepsClientState() const override { return false; }
};

}  // namespace

PROXY_REGISTER_FACTORY(InstanceFactory, FilterFactory)

}  // namespace proxy::test::custom_filter
