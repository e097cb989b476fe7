// libFuzzer target for the csv vendor's parsers (scripts/fuzz-vendors csv): every input goes to
// parse_bar_csv (the header-driven CSV the sim vendor shares) and parse_csv_payload (the csv
// vendor: header CSV, Lean daily CSV, a zip holding one), single- and multi-symbol, daily (and
// hourly and minute bars for the csv vendor: Lean minute files, intraday times on the nyse and
// fx calendars); and, wrapped in a deflated (small inputs also a stored) zip entry,
// through the zip reader's happy path. The only acceptable failure is trib::Error; on top of that:
//   - an error message is printable ASCII (file bytes are never echoed to a terminal);
//   - a finding's reason is printable ASCII without newlines, its raw text at most 200 bytes;
//   - every bar is dated 1900-01-01..2100-12-31 with finite values;
//   - parse_csv_payload never returns two bars of one symbol on the same date.
// Seeds beside what the fuzzer found, in tests/providers/fuzz_regressions/csv/seed-*: a Lean
// daily CSV and its zip (Info-ZIP), a newest-first file with a repeated date, a multi-symbol file
// (all synthetic), so mutations start from each format's structure.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "../src/providers/csv/csv_bars.hpp"
#include "trib/core/calendar.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/parse_util.hpp"
#include "vendor_fuzz_checks.hpp"

namespace {

using namespace trib;
using namespace trib::providers;
using namespace trib::fuzzing;

// The shared invariants (printable one-line messages and reasons, raw text <= 200 bytes, finite
// bars in the supported range) plus the csv vendor's own: parse_csv_payload leaves no two bars of
// a symbol on one date (1d) or timestamp (intraday).
void check(const ParseResult& r, bool payload, Timeframe tf) {
  check_parse(r, {});
  for (const auto& [symbol, bars] : r.bars) {
    std::set<int64_t> seen;
    for (const Bar& b : bars) {
      require(supported_date(b.session_date), "bar outside the supported dates");
      if (payload) {
        const int64_t key = tf == Timeframe::kDay1 ? b.session_date.days_since_epoch() : b.ts_ns;
        require(seen.insert(key).second, "duplicate date left in a csv payload");
      }
    }
  }
}

template <typename F>
void run(F&& parse, bool payload, Timeframe tf) {
  try {
    check(parse(), payload, tf);
  } catch (const trib::Error& e) {
    require(printable_line(e.what()), "error message not printable");
  }
}

void put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

// A one-entry zip of `content` (method 0 stored, 8 deflate), as Lean's daily zips are.
std::string zip_of(std::string_view content, int method) {
  std::string data;
  if (method == 8) {
    z_stream zs{};
    deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    data.resize(deflateBound(&zs, static_cast<uLong>(content.size())));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
    zs.avail_in = static_cast<uInt>(content.size());
    zs.next_out = reinterpret_cast<Bytef*>(data.data());
    zs.avail_out = static_cast<uInt>(data.size());
    deflate(&zs, Z_FINISH);
    data.resize(zs.total_out);
    deflateEnd(&zs);
  } else {
    data = std::string(content);
  }
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())));
  const std::string name = "aapl.csv";
  std::string z;
  put32(z, 0x04034b50);
  put16(z, 20);
  put16(z, 0);
  put16(z, static_cast<uint32_t>(method));
  put32(z, 0);
  put32(z, crc);
  put32(z, static_cast<uint32_t>(data.size()));
  put32(z, static_cast<uint32_t>(content.size()));
  put16(z, static_cast<uint32_t>(name.size()));
  put16(z, 0);
  z += name;
  z += data;
  const size_t directory = z.size();
  put32(z, 0x02014b50);
  put16(z, 20);
  put16(z, 20);
  put16(z, 0);
  put16(z, static_cast<uint32_t>(method));
  put32(z, 0);
  put32(z, crc);
  put32(z, static_cast<uint32_t>(data.size()));
  put32(z, static_cast<uint32_t>(content.size()));
  put16(z, static_cast<uint32_t>(name.size()));
  put16(z, 0);
  put16(z, 0);
  put16(z, 0);
  put16(z, 0);
  put32(z, 0);
  put32(z, 0);
  z += name;
  const size_t directory_size = z.size() - directory;
  put32(z, 0x06054b50);
  put16(z, 0);
  put16(z, 0);
  put16(z, 1);
  put16(z, 1);
  put32(z, static_cast<uint32_t>(directory_size));
  put32(z, static_cast<uint32_t>(directory));
  put16(z, 0);
  return z;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ParseContext single;
  single.symbol = Symbol::parse("AAPL");
  ParseContext multi;
  run([&] { return parse_bar_csv(bytes, single); }, false, Timeframe::kDay1);
  run([&] { return parse_bar_csv(bytes, multi); }, false, Timeframe::kDay1);
  run([&] { return parse_csv_payload(bytes, single); }, true, Timeframe::kDay1);
  run([&] { return parse_csv_payload(bytes, multi); }, true, Timeframe::kDay1);
  // Hourly: timestamps at midnight UTC, duplicates keyed by timestamp.
  single.timeframe = Timeframe::kHour1;
  run([&] { return parse_csv_payload(bytes, single); }, true, Timeframe::kHour1);
  single.timeframe = Timeframe::kDay1;
  // Minutes: a Lean minute file (the date from its name), then ISO / New York times on the fx
  // calendar (sessions from 17:00 New York), single- and multi-symbol.
  ParseContext minute = single;
  minute.timeframe = Timeframe::kMinute1;
  minute.file_name = "20140605_aapl_minute_trade.csv";
  run([&] { return parse_csv_payload(bytes, minute); }, true, Timeframe::kMinute1);
  minute.file_name.clear();
  minute.calendar = &TradingCalendar::fx();
  run([&] { return parse_csv_payload(bytes, minute); }, true, Timeframe::kMinute1);
  minute.symbol = Symbol();
  run([&] { return parse_csv_payload(bytes, minute); }, true, Timeframe::kMinute1);
  (void)csv_has_symbol_column(bytes);  // never throws
  (void)printable_excerpt(bytes, 16);
  if (!is_zip_archive(bytes)) {
    // The zip reader's happy path (inflate, CRC) and the parsers behind it; stored entries only
    // for small inputs (the same parse, at a fraction of the cost per run).
    for (int method : {8, 0}) {
      if (method == 0 && size > 4096) break;
      const std::string zip = zip_of(bytes, method);
      run([&] { return parse_csv_payload(zip, single); }, true, Timeframe::kDay1);
    }
  }
  return 0;
}
