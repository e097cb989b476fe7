#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {

std::unique_ptr<Provider> make_csv_provider();
std::unique_ptr<Provider> make_sim_provider(const ProviderOptions& options);

std::vector<std::string> available_vendors() { return {"csv", "sim"}; }

std::unique_ptr<Provider> make_provider(std::string_view vendor, const ProviderOptions& options) {
  if (vendor == "csv") return make_csv_provider();
  if (vendor == "sim") return make_sim_provider(options);
  std::string list;
  for (const auto& v : available_vendors()) list += (list.empty() ? "" : ", ") + v;
  throw Error::InvalidInput(
      fmt::format("unknown vendor '{}'; available vendors: {}", vendor, list));
}

std::vector<Symbol> sim_universe(int n) {
  std::vector<Symbol> out;
  out.reserve(static_cast<size_t>(std::max(0, n)));
  for (int i = 1; i <= n; ++i) out.push_back(Symbol::parse(fmt::format("SIM{:04d}", i)));
  return out;
}

}  // namespace trib::providers
