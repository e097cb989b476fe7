// The csv vendor: local daily files as users have them (Yahoo / Stooq / Alpha Vantage / Kaggle CSV,
// Lean's daily CSV and zip). fetch returns one file's bytes exactly; parse recognises the format
// from the bytes alone (csv_bars.cpp), so `trib etl` re-reads a stored payload the same way.
// Expanding folders and globs and naming a file's symbol is csv_files.cpp's (for the CLI).
#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "csv_bars.hpp"
#include "trib/core/error.hpp"
#include "trib/core/fs.hpp"

namespace trib::providers {
namespace {

class CsvProvider final : public Provider {
 public:
  std::string_view name() const override { return "csv"; }

  FetchResult fetch(const FetchRequest& request) override {
    auto it = request.params.find("file");
    if (it == request.params.end() || it->second.empty()) {
      throw Error::InvalidInput("the csv vendor needs a file (--file PATH)");
    }
    std::filesystem::path path = it->second;
    if (std::filesystem::is_directory(path)) {
      throw Error::InvalidInput(fmt::format("{} is a folder; give a CSV file", path.string()));
    }
    if (!std::filesystem::exists(path)) {
      throw Error::NotFound(fmt::format("{}: no such file", path.string()));
    }
    FetchResult result;
    result.bytes = read_file(path);
    const bool zip = is_zip_archive(result.bytes);
    result.ext = zip ? "zip" : "csv";
    result.content_type = zip ? "application/zip" : "text/csv";
    result.request = {{"vendor", "csv"}, {"file", path.filename().string()}};
    result.multi_symbol = csv_has_symbol_column(result.bytes);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      result.as_of_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    return result;
  }

  ParseResult parse(std::string_view bytes, const ParseContext& context) const override {
    return parse_csv_payload(bytes, context);
  }
};

}  // namespace

std::unique_ptr<Provider> make_csv_provider() { return std::make_unique<CsvProvider>(); }

}  // namespace trib::providers
