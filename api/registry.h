// Name → factory registries, one per plugin kind; plugins add themselves at static-init time.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace proxy {

// One registry per factory interface. `Factory` must provide
//   absl::string_view Name() const;          // the exact config value ("fnv1a_64", "ketama")
//   absl::string_view Description() const;   // one line, for `proxyctl plugins`
//   static constexpr absl::string_view kCategory;  // "hash", "distribution", ...
// Registration happens during static initialisation (single-threaded); lookups afterwards are
// read-only and therefore thread-safe.
template <class Factory>
class Registry {
 public:
  // Takes ownership. kAlreadyExists when the name is taken (the factory is then dropped).
  static absl::Status Add(std::unique_ptr<Factory> factory) {
    std::string name(factory->Name());
    auto [it, inserted] = Map().emplace(name, std::move(factory));
    if (!inserted) {
      return absl::AlreadyExistsError(
          absl::StrCat(Factory::kCategory, " '", name, "' is registered twice"));
    }
    return absl::OkStatus();
  }

  // nullptr when `name` is unknown. The pointer stays valid for the life of the process.
  static const Factory* Find(absl::string_view name) {
    auto it = Map().find(std::string(name));
    return it == Map().end() ? nullptr : it->second.get();
  }

  // Every registered name, sorted: for error messages and `proxyctl plugins`.
  static std::vector<std::string> Names() {
    std::vector<std::string> names;
    names.reserve(Map().size());
    for (const auto& [name, factory] : Map()) names.push_back(name);
    return names;
  }

  // "a, b, c": the valid choices, for error messages.
  static std::string NamesForMessage() {
    std::vector<std::string> names = Names();
    return names.empty() ? std::string("none linked into this binary")
                         : absl::StrJoin(names, ", ");
  }

  // Replaces (or adds) `name` and returns the previous factory; used by ScopedFactoryOverride.
  static std::unique_ptr<Factory> Replace(absl::string_view name,
                                          std::unique_ptr<Factory> factory) {
    auto& slot = Map()[std::string(name)];
    std::unique_ptr<Factory> previous = std::move(slot);
    slot = std::move(factory);
    if (slot == nullptr) Map().erase(std::string(name));
    return previous;
  }

 private:
  static std::map<std::string, std::unique_ptr<Factory>>& Map() {
    static auto* map = new std::map<std::string, std::unique_ptr<Factory>>();
    return *map;
  }
};

// Static registrar used by PROXY_REGISTER_FACTORY. A duplicate name is a build mistake (two
// plugins claiming one config value), so it aborts at startup with a clear message.
template <class Interface>
class Registrar {
 public:
  explicit Registrar(std::unique_ptr<Interface> factory) {
    absl::Status status = Registry<Interface>::Add(std::move(factory));
    if (!status.ok()) {
      std::fprintf(stderr, "fatal: %s\n", std::string(status.message()).c_str());
      std::abort();
    }
  }
};

// Test helper: installs `factory` under its name and restores the previous one on destruction.
template <class Interface>
class ScopedFactoryOverride {
 public:
  explicit ScopedFactoryOverride(std::unique_ptr<Interface> factory)
      : name_(factory->Name()),
        previous_(Registry<Interface>::Replace(name_, std::move(factory))) {}
  ~ScopedFactoryOverride() { Registry<Interface>::Replace(name_, std::move(previous_)); }
  ScopedFactoryOverride(const ScopedFactoryOverride&) = delete;
  ScopedFactoryOverride& operator=(const ScopedFactoryOverride&) = delete;

 private:
  std::string name_;
  std::unique_ptr<Interface> previous_;
};

}  // namespace proxy

#define PROXY_REGISTRY_CONCAT_INNER_(a, b) a##b
#define PROXY_REGISTRY_CONCAT_(a, b) PROXY_REGISTRY_CONCAT_INNER_(a, b)

// Registers one `FactoryType` (default-constructible) under `Interface`'s registry. The plugin's
// cc_library must be built with alwayslink = True (bazel/proxy.bzl: proxy_plugin) or the linker
// drops this object.
#define PROXY_REGISTER_FACTORY(FactoryType, Interface)                                        \
  namespace {                                                                                 \
  const ::proxy::Registrar<Interface> PROXY_REGISTRY_CONCAT_(proxy_registrar_, __LINE__){     \
      std::make_unique<FactoryType>()};                                                       \
  }
