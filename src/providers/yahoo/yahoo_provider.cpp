// The yahoo adapter: placeholder until it lands (every fetch is refused with a clear message).
#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {
namespace {

class Placeholder final : public Provider {
 public:
  std::string_view name() const override { return "yahoo"; }
  FetchResult fetch(const FetchRequest&) override {
    throw Error::InvalidInput("the yahoo adapter is not built yet");
  }
  ParseResult parse(std::string_view, const ParseContext&) const override {
    throw Error::InvalidInput("the yahoo adapter is not built yet");
  }
};

}  // namespace

std::unique_ptr<Provider> make_yahoo_provider(const ProviderOptions&, std::shared_ptr<RequestGate>) {
  return std::make_unique<Placeholder>();
}

}  // namespace trib::providers
