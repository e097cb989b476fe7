// The yahoo mock: placeholder until its adapter lands (answers 404 for every path).
#include "mock_vendor.hpp"

namespace trib::testing {
namespace {

class Routes final : public VendorRoutes {
 public:
  std::string name() const override { return "yahoo"; }
  std::optional<MockAnswer> check_auth(const MockRequest&) const override { return std::nullopt; }
  std::optional<MockAnswer> handle(const MockRequest&) const override { return std::nullopt; }
  MockAnswer vendor_error(const MockRequest&) const override { return {500, "application/json", "{}", {}}; }
  MockAnswer unknown_symbol(const MockRequest&) const override { return {404, "application/json", "{}", {}}; }
  std::string symbol_of(const MockRequest&) const override { return ""; }
};

}  // namespace

std::unique_ptr<VendorRoutes> make_yahoo_routes() { return std::make_unique<Routes>(); }

}  // namespace trib::testing
