// The csv vendor on files as users have them: folders and globs, symbols from file names,
// newest-first files, Lean's daily CSV and zip, files that are not CSV at all, dates outside the
// supported range.
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../src/providers/csv/csv_bars.hpp"
#include "../../src/providers/csv/csv_files.hpp"
#include "../../src/providers/csv/csv_zip.hpp"
#include "../core/test_util.hpp"
#include "trib/core/error.hpp"
#include "trib/providers/provider.hpp"

namespace trib::providers {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::slurp;
using testing::spit;
using testing::TempDir;

const fs::path kShared = TRIB_SHARED_DATA;
const fs::path kLean = kShared / "equities-daily/lean-us-equity-daily";

ParseResult parse_payload(std::string_view bytes, std::string_view symbol = "TEST") {
  ParseContext context;
  if (!symbol.empty()) context.symbol = Symbol::parse(symbol);
  return make_provider("csv")->parse(bytes, context);
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
}

// --- a zip writer for the tests ------------------------------------------------------------------

struct ZipItem {
  std::string name;
  std::string content;
  int method = 8;        // 0 stored, 8 deflate, anything else written as stored bytes
  uint16_t flags = 0;
  bool bad_crc = false;
};

void put16(std::string& out, uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

std::string deflate_raw(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string make_zip(const std::vector<ZipItem>& items, bool zip64_marker = false) {
  std::string z, directory;
  for (const ZipItem& item : items) {
    const std::string data = item.method == 8 ? deflate_raw(item.content) : item.content;
    uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(item.content.data()),
                                               static_cast<uInt>(item.content.size())));
    if (item.bad_crc) crc ^= 1;
    const size_t offset = z.size();
    put32(z, 0x04034b50);
    put16(z, 20);
    put16(z, item.flags);
    put16(z, static_cast<uint32_t>(item.method));
    put32(z, 0);
    put32(z, crc);
    put32(z, static_cast<uint32_t>(data.size()));
    put32(z, static_cast<uint32_t>(item.content.size()));
    put16(z, static_cast<uint32_t>(item.name.size()));
    put16(z, 0);
    z += item.name;
    z += data;
    put32(directory, 0x02014b50);
    put16(directory, 20);
    put16(directory, 20);
    put16(directory, item.flags);
    put16(directory, static_cast<uint32_t>(item.method));
    put32(directory, 0);
    put32(directory, crc);
    put32(directory, static_cast<uint32_t>(data.size()));
    put32(directory, static_cast<uint32_t>(item.content.size()));
    put16(directory, static_cast<uint32_t>(item.name.size()));
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, static_cast<uint32_t>(offset));
    directory += item.name;
  }
  const size_t directory_at = z.size();
  z += directory;
  put32(z, 0x06054b50);
  put16(z, 0);
  put16(z, 0);
  put16(z, zip64_marker ? 0xFFFF : static_cast<uint32_t>(items.size()));
  put16(z, zip64_marker ? 0xFFFF : static_cast<uint32_t>(items.size()));
  put32(z, static_cast<uint32_t>(directory.size()));
  put32(z, static_cast<uint32_t>(directory_at));
  put16(z, 0);
  return z;
}

// --- symbols from file names ---------------------------------------------------------------------

TEST(CsvFileName, GivesTheSymbolOfTickerLikeNames) {
  const std::map<std::string, std::string> named = {
      {"AAPL.csv", "AAPL"},         {"aapl.csv", "AAPL"},       {"aapl.us.txt", "AAPL"},
      {"aapl.zip", "AAPL"},         {"aapl.csv.zip", "AAPL"},   {"spy_us_daily.csv", "SPY"},
      {"spy_us_d.csv", "SPY"},      {"msft_daily.CSV", "MSFT"}, {"brk.b.csv", "BRK.B"},
      {"bf-b.us.txt", "BF-B"},      {"^gspc.csv", "^GSPC"},     {"goocv.csv", "GOOCV"},
      {"^n225.csv", "^N225"},       {"aapl", "AAPL"},           {"ibm_us.csv", "IBM"},
  };
  for (const auto& [file, symbol] : named) {
    auto got = symbol_from_file_name(file);
    ASSERT_TRUE(got.has_value()) << file;
    EXPECT_EQ(got->str(), symbol) << file;
  }
  for (const char* file : {"sp500-2000.csv", "all_stocks_5yr.csv", "2020.csv", "my prices.csv",
                           ".csv", "a..b.csv", "prices_2019_2020.csv", "abcdefghijk.csv",
                           "..csv", "x.y.z.csv", "^.csv", "mock_time_series_extended.csv"}) {
    EXPECT_FALSE(symbol_from_file_name(file).has_value()) << file;
  }
}

// --- folders and patterns ------------------------------------------------------------------------

TEST(CsvFiles, FolderGivesItsDataFilesSorted) {
  TempDir dir;
  for (const char* name : {"msft.csv", "AAPL.CSV", "ibm.us.txt", "spy.zip", ".hidden.csv",
                           "README.md", "notes"}) {
    spit(dir.path() / name, "x");
  }
  fs::create_directory(dir.path() / "sub.csv");  // a folder, whatever its name
  spit(dir.path() / "sub.csv" / "deep.csv", "x");
  auto files = expand_csv_inputs({dir.path().string()});
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"AAPL.CSV", "ibm.us.txt", "msft.csv", "spy.zip"}));

  TempDir empty;
  spit(empty.path() / "README.md", "x");
  EXPECT_THAT(expect_error([&] { expand_csv_inputs({empty.path().string()}); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("is a folder holding no .csv, .txt or .zip file"));
}

TEST(CsvFiles, GlobIsExpandedSortedAndMustMatch) {
  TempDir dir;
  for (const char* name : {"b.csv", "a.csv", "c.txt", "d.csv"}) spit(dir.path() / name, "x");
  fs::create_directory(dir.path() / "e.csv");  // folders matched by a pattern are skipped
  auto files = expand_csv_inputs({(dir.path() / "*.csv").string()});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "a.csv");
  EXPECT_EQ(files[1].filename(), "b.csv");
  EXPECT_EQ(files[2].filename(), "d.csv");
  // Several inputs: in order, each file once.
  files = expand_csv_inputs({(dir.path() / "d.csv").string(), (dir.path() / "[a-d].*").string(),
                             dir.path().string() + "/./a.csv"});
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].filename(), "d.csv");
  EXPECT_EQ(files[1].filename(), "a.csv");
  EXPECT_EQ(files[3].filename(), "c.txt");

  const std::string nothing = (dir.path() / "*.parquet").string();
  EXPECT_THAT(expect_error([&] { expand_csv_inputs({nothing}); }, ErrorCategory::kInvalidInput),
              HasSubstr("--file '" + nothing + "' matches no file"));
  const std::string missing = (dir.path() / "nope.csv").string();
  EXPECT_THAT(expect_error([&] { expand_csv_inputs({missing}); }, ErrorCategory::kNotFound),
              HasSubstr(missing));
}

// --- newest first and duplicates -----------------------------------------------------------------

TEST(CsvOrder, NewestFirstFileComesBackAscending) {
  const std::string text = slurp(kShared / "vendor-samples/stooq/spy_us_daily.csv");
  ASSERT_FALSE(text.empty());
  // The same rows newest first under Alpha Vantage's daily header.
  std::vector<std::string> rows;
  size_t start = text.find('\n') + 1;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) rows.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::string reversed = "timestamp,open,high,low,close,volume\n";
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) reversed += *it + "\n";
  const ParseResult asc = parse_payload(text, "SPY");
  const ParseResult desc = parse_payload(reversed, "SPY");
  EXPECT_TRUE(desc.findings.empty());
  const auto& a = asc.bars.at(Symbol::parse("SPY"));
  const auto& d = desc.bars.at(Symbol::parse("SPY"));
  ASSERT_EQ(a.size(), 2000u);
  ASSERT_EQ(d.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(d[i].session_date, a[i].session_date) << i;
    ASSERT_EQ(d[i].ts_ns, a[i].ts_ns);
    ASSERT_EQ(d[i].close, a[i].close);
    ASSERT_EQ(d[i].volume, a[i].volume);
  }
}

TEST(CsvOrder, NewestFirstPerSymbolAndDuplicatesAreFindings) {
  ParseResult parsed = parse_payload(
      "timestamp,open,high,low,close,volume,symbol\n"  // 1
      "2020-01-06,1,2,0.5,1.7,10,AAA\n"                // 2
      "2020-01-03,1,2,0.5,1.6,10,AAA\n"                // 3
      "2020-01-02,1,2,0.5,1.5,10,BBB\n"                // 4
      "2020-01-03,1,2,0.5,9.9,10,AAA\n"                // 5 AAA's 2020-01-03 again
      "2020-01-02,1,2,0.5,1.5,10,AAA\n"                // 6
      "2020-01-03,1,2,0.5,1.6,10,BBB\n",               // 7 BBB ascends
      "");
  ASSERT_EQ(parsed.findings.size(), 1u);
  EXPECT_EQ(parsed.findings[0].line, 5);
  EXPECT_EQ(parsed.findings[0].rule, "duplicate_date");
  EXPECT_THAT(parsed.findings[0].reason, HasSubstr("first on line 3"));
  const auto& aaa = parsed.bars.at(Symbol::parse("AAA"));
  ASSERT_EQ(aaa.size(), 3u);
  EXPECT_EQ(aaa[0].session_date, Date::parse("2020-01-02"));
  EXPECT_EQ(aaa[1].session_date, Date::parse("2020-01-03"));
  EXPECT_EQ(aaa[1].close, 1.6);  // the file's first row for the date
  EXPECT_EQ(aaa[2].session_date, Date::parse("2020-01-06"));
  const auto& bbb = parsed.bars.at(Symbol::parse("BBB"));
  ASSERT_EQ(bbb.size(), 2u);
  EXPECT_EQ(bbb[0].session_date, Date::parse("2020-01-02"));

  // Findings stay in line order with the parser's own.
  ParseResult mixed = parse_payload(
      "Date,Open,High,Low,Close,Volume\n"
      "2020-01-03,1,2,0.5,1.5,10\n"
      "2020-01-03,1,2,0.5,1.5,10\n"
      "2020-01-02,1,2,x,1.5,10\n"
      "2020-01-02,1,2,0.5,1.5,10\n");
  ASSERT_EQ(mixed.findings.size(), 2u);
  EXPECT_EQ(mixed.findings[0].line, 3);
  EXPECT_EQ(mixed.findings[0].rule, "duplicate_date");
  EXPECT_EQ(mixed.findings[1].line, 4);
  EXPECT_EQ(mixed.findings[1].rule, "bad_number");
  ASSERT_EQ(mixed.bars.at(Symbol::parse("TEST")).size(), 2u);
  EXPECT_EQ(mixed.bars.at(Symbol::parse("TEST"))[0].session_date, Date::parse("2020-01-02"));
}

// The sim vendor shares parse_bar_csv and injects duplicates for the ETL to find: that path keeps
// payload order and duplicates.
TEST(CsvOrder, ParseBarCsvKeepsPayloadOrderAndDuplicates) {
  ParseContext context;
  context.symbol = Symbol::parse("SIM");
  ParseResult parsed = parse_bar_csv(
      "date,open,high,low,close,volume\n2020-01-03,1,2,0.5,1.5,1\n2020-01-03,1,2,0.5,1.5,1\n"
      "2020-01-02,1,2,0.5,1.5,1\n",
      context);
  EXPECT_TRUE(parsed.findings.empty());
  ASSERT_EQ(parsed.bars.at(context.symbol).size(), 3u);
  EXPECT_EQ(parsed.bars.at(context.symbol)[2].session_date, Date::parse("2020-01-02"));
}

// --- dates outside the supported range -----------------------------------------------------------

TEST(CsvDates, OutsideTheSupportedRangeAreFindingsNeverTimestamps) {
  // 4026-05-17: the fuzzer's find, which overflowed to_ts_ns under UBSan.
  ParseResult parsed = parse_payload(
      "Date,Open,High,Low,Close,Volume\n"
      "1899-12-29,1,2,0.5,1.5,10\n"
      "1900-01-02,1,2,0.5,1.5,10\n"
      "2100-12-31,1,2,0.5,1.5,10\n"
      "2101-01-03,1,2,0.5,1.5,10\n"
      "4026-05-17,1,2,0.5,1.5,10\n"
      "99991231,1,2,0.5,1.5,10\n"
      "0001-01-01,1,2,0.5,1.5,10\n");
  ASSERT_EQ(parsed.bars.at(Symbol::parse("TEST")).size(), 2u);
  std::vector<int64_t> lines;
  for (const auto& f : parsed.findings) {
    EXPECT_EQ(f.rule, "date_out_of_range") << f.reason;
    EXPECT_THAT(f.reason, HasSubstr("outside the supported dates 1900-01-01..2100-12-31"));
    lines.push_back(f.line);
  }
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 5, 6, 7, 8}));

  ParseResult ts = parse_payload(
      "date,ts,open,high,low,close,volume\n"
      "2020-01-02,4026-05-17T14:30:00Z,1,2,0.5,1.5,10\n"
      "2020-01-02,9999-12-31T23:59:59.999999999Z,1,2,0.5,1.5,10\n"
      "2020-01-03,2020-01-03T14:30:00Z,1,2,0.5,1.5,10\n");
  ASSERT_EQ(ts.findings.size(), 2u);
  EXPECT_EQ(ts.findings[0].rule, "date_out_of_range");
  EXPECT_EQ(ts.findings[1].rule, "date_out_of_range");
  ASSERT_EQ(ts.bars.at(Symbol::parse("TEST")).size(), 1u);

  ParseResult lean = parse_payload("40260517 00:00,10000,20000,5000,15000,10\n");
  ASSERT_EQ(lean.findings.size(), 1u);
  EXPECT_EQ(lean.findings[0].rule, "date_out_of_range");
}

// --- Lean ----------------------------------------------------------------------------------------

TEST(CsvLean, AaplDailyFile) {
  const std::string text = slurp(kLean / "raw/aapl.csv");
  ASSERT_FALSE(text.empty());
  ParseResult parsed = parse_payload(text, "AAPL");
  EXPECT_TRUE(parsed.findings.empty());
  const auto& bars = parsed.bars.at(Symbol::parse("AAPL"));
  ASSERT_EQ(bars.size(), 5849u);  // SOURCE.md; the last row has no newline
  // 19980102 00:00,136300,162500,135000,162500,6315000
  EXPECT_EQ(bars.front().session_date, Date::parse("1998-01-02"));
  EXPECT_EQ(bars.front().open, 13.63);
  EXPECT_EQ(bars.front().high, 16.25);
  EXPECT_EQ(bars.front().low, 13.5);
  EXPECT_EQ(bars.front().close, 16.25);
  EXPECT_EQ(bars.front().volume, 6315000);
  EXPECT_EQ(format_ts_ns(bars.front().ts_ns), "1998-01-02T14:30:00Z");
  EXPECT_EQ(bars.back().session_date, Date::parse("2021-03-31"));
  for (size_t i = 1; i < bars.size(); ++i) ASSERT_LT(bars[i - 1].session_date, bars[i].session_date);
}

// Every row of the 21 Lean files against the independent conversion shipped beside them
// (symbol,date,open,high,low,close,volume with prices / 10,000 to 4 dp): same rows, same values.
TEST(CsvLean, AllFilesAgreeWithTheIndependentConversion) {
  const std::string converted = slurp(kLean / "lean_us_equity_daily_raw_unadjusted.csv");
  ASSERT_FALSE(converted.empty());
  ParseResult reference = parse_payload(converted, "");
  ASSERT_TRUE(reference.findings.empty());
  size_t rows = 0, files = 0;
  for (const auto& entry : fs::directory_iterator(kLean / "raw")) {
    const auto symbol = symbol_from_file_name(entry.path().filename().string());
    ASSERT_TRUE(symbol.has_value()) << entry.path();
    ParseResult parsed = parse_payload(slurp(entry.path()), symbol->str());
    EXPECT_TRUE(parsed.findings.empty()) << entry.path();
    const auto& got = parsed.bars.at(*symbol);
    const auto& want = reference.bars.at(*symbol);
    ASSERT_EQ(got.size(), want.size()) << symbol->str();
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].session_date, want[i].session_date) << symbol->str() << " " << i;
      ASSERT_EQ(got[i].open, want[i].open) << symbol->str() << " " << got[i].session_date.to_string();
      ASSERT_EQ(got[i].high, want[i].high) << symbol->str() << " " << got[i].session_date.to_string();
      ASSERT_EQ(got[i].low, want[i].low) << symbol->str() << " " << got[i].session_date.to_string();
      ASSERT_EQ(got[i].close, want[i].close) << symbol->str() << " " << got[i].session_date.to_string();
      ASSERT_EQ(got[i].volume, want[i].volume) << symbol->str();
    }
    rows += got.size();
    ++files;
  }
  EXPECT_EQ(files, 21u);
  EXPECT_EQ(rows, 70'025u);
  EXPECT_EQ(reference.bars.size(), 21u);
}

TEST(CsvLean, BadRowsAreFindingsAndIntradayLeanIsRefused) {
  ParseResult parsed = parse_payload(
      "19980102 00:00,136300,162500,135000,162500,6315000\n"
      "19980105 00:00,165000,165600,151900\n"
      "19980106 12:00,159400,205000,147500,190000,16064600\n"
      "19980107 00:00,190000,x,147500,190000,1\n"
      "19981307 00:00,190000,190000,147500,190000,1\n"
      "\n");
  ASSERT_EQ(parsed.bars.at(Symbol::parse("TEST")).size(), 1u);
  ASSERT_EQ(parsed.findings.size(), 4u);
  EXPECT_EQ(parsed.findings[0].rule, "malformed_row");
  EXPECT_EQ(parsed.findings[1].rule, "bad_date");
  EXPECT_EQ(parsed.findings[2].rule, "bad_number");
  EXPECT_EQ(parsed.findings[3].rule, "bad_date");
  EXPECT_EQ(parsed.findings[3].line, 5);

  EXPECT_THAT(expect_error([] { parse_payload("20131007 09:00,1,2,1,2,3\n"); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("hour or minute data"));
  EXPECT_THAT(expect_error([] { parse_payload("19980102 00:00,1,2,1,2,3\n", ""); },
                           ErrorCategory::kInvalidInput),
              HasSubstr("needs the symbol"));
}

TEST(CsvLean, ZipHoldingTheDailyCsv) {
  const std::string text = slurp(kLean / "raw/aapl.csv");
  const ParseResult plain = parse_payload(text, "AAPL");
  for (int method : {0, 8}) {
    const std::string zip = make_zip({{"aapl.csv", text, method}});
    ASSERT_TRUE(is_zip_archive(zip));
    ParseResult parsed = parse_payload(zip, "AAPL");
    EXPECT_TRUE(parsed.findings.empty());
    const auto& bars = parsed.bars.at(Symbol::parse("AAPL"));
    ASSERT_EQ(bars.size(), 5849u) << method;
    EXPECT_EQ(bars.front().close, 16.25);
    EXPECT_EQ(bars.back().close, plain.bars.at(Symbol::parse("AAPL")).back().close);
    EXPECT_FALSE(csv_has_symbol_column(zip));
  }
  // A zip of a multi-symbol CSV names its own symbols.
  EXPECT_TRUE(csv_has_symbol_column(
      make_zip({{"all.csv", "date,open,high,low,close,volume,Name\n2020-01-02,1,2,1,2,3,A\n"}})));
}

// Info-ZIP's own archives: written to a file, and streamed (data descriptors after the data).
TEST(CsvLean, ZipFromTheZipTool) {
  if (std::system("zip -v > /dev/null 2>&1") != 0) GTEST_SKIP() << "no zip tool";
  TempDir dir;
  fs::copy_file(kLean / "raw/ibm.csv", dir.path() / "ibm.csv");
  const std::string cmd = fmt::format(
      "cd '{}' && zip -q -X ibm.zip ibm.csv && cat ibm.csv | zip -q -X -fz- - - > streamed.zip",
      dir.path().string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  for (const char* name : {"ibm.zip", "streamed.zip"}) {
    ParseResult parsed = parse_payload(slurp(dir.path() / name), "IBM");
    EXPECT_TRUE(parsed.findings.empty()) << name;
    EXPECT_EQ(parsed.bars.at(Symbol::parse("IBM")).size(), 5849u) << name;
  }
  FetchRequest request;
  request.params["file"] = (dir.path() / "ibm.zip").string();
  FetchResult fetched = make_provider("csv")->fetch(request);
  EXPECT_EQ(fetched.ext, "zip");
  EXPECT_EQ(fetched.content_type, "application/zip");
  EXPECT_FALSE(fetched.multi_symbol);
  EXPECT_EQ(fetched.bytes, slurp(dir.path() / "ibm.zip"));
}

TEST(CsvZip, WhatTheReaderRefusesIsInvalidInputSaidPlainly) {
  const std::string csv = "Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n";
  struct Case {
    std::string name;
    std::string zip;
    std::string says;
  };
  std::string truncated = make_zip({{"a.csv", std::string(5000, 'a')}});
  truncated.resize(truncated.size() / 2);
  std::string cut_stream = make_zip({{"a.csv", csv}});
  const std::vector<Case> cases = {
      {"two files", make_zip({{"a.csv", csv}, {"b.csv", csv}}), "holds 2 files (a.csv, b.csv)"},
      {"no file", make_zip({{"dir/", "", 0}}), "holds no file"},
      {"bad crc", make_zip({{"a.csv", csv, 8, 0, true}}), "CRC-32"},
      {"bzip2", make_zip({{"a.csv", csv, 12}}), "compression method 12"},
      {"encrypted", make_zip({{"a.csv", csv, 8, 1}}), "encrypted"},
      {"zip64", make_zip({{"a.csv", csv}}, true), "zip64"},
      {"xlsx", make_zip({{"[Content_Types].xml", "<x/>"}, {"xl/workbook.xml", "<x/>"}}),
       "Excel workbook"},
      {"zip in zip", make_zip({{"inner.zip", make_zip({{"a.csv", csv}})}}), "is itself a zip"},
      {"truncated", truncated, "zip archive"},
      {"garbage", std::string("PK\x03\x04") + std::string(300, '\x01'), "no end of central directory"},
      {"bad name", make_zip({{"a\x1b[31m.csv", csv}, {"b\x07.csv", csv}}), "a\\x1B[31m.csv"},
  };
  for (const auto& c : cases) {
    std::string message =
        expect_error([&] { parse_payload(c.zip); }, ErrorCategory::kInvalidInput);
    EXPECT_THAT(message, HasSubstr(c.says)) << c.name;
    EXPECT_TRUE(printable(message)) << c.name << ": " << message;
  }
  // A deflate stream that ends early.
  std::string zip = make_zip({{"a.csv", std::string(100000, 'x') + csv}});
  const std::string deflated = deflate_raw(std::string(100000, 'x') + csv);
  // Overwrite the end of the compressed data: the stream no longer completes or fails its CRC.
  zip[30 + 5 + deflated.size() - 3] ^= 0x55;
  EXPECT_TRUE(printable(expect_error([&] { parse_payload(zip); }, ErrorCategory::kInvalidInput)));
}

// --- not CSV at all ------------------------------------------------------------------------------

TEST(CsvBinary, BinaryFilesAreInvalidInputAndNeverEchoed) {
  const std::string png = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(64, '\xff');
  const std::map<std::string, std::pair<std::string, std::string>> cases = {
      {"png", {png, "a PNG image"}},
      {"nul", {std::string(4096, '\0'), "NUL byte at offset 0"}},
      {"gzip", {std::string("\x1f\x8b\x08\0\0\0\0\0", 8), "gunzip"}},
      {"utf16", {std::string("\xff\xfe" "D\0a\0t\0e\0", 10), "UTF-16"}},
      {"parquet", {std::string("PAR1\x15\x04", 6), "Parquet"}},
      {"late nul", {"Date,Open,High,Low,Close,Volume\n2020" + std::string(10, '\0'), "offset 36"}},
  };
  for (const auto& [name, c] : cases) {
    std::string message = expect_error([&] { parse_payload(c.first); }, ErrorCategory::kInvalidInput);
    EXPECT_THAT(message, HasSubstr(c.second)) << name;
    EXPECT_THAT(message, HasSubstr("expected CSV text")) << name;
    EXPECT_TRUE(printable(message)) << name << ": " << message;
  }
  // Control bytes in a header or a row are quoted as \xNN in messages and reasons.
  std::string message = expect_error([] { parse_payload("\x1b[2J\x07hello,world\n1,2\n"); },
                                     ErrorCategory::kInvalidInput);
  EXPECT_THAT(message, HasSubstr("\\x1B[2J\\x07hello"));
  EXPECT_TRUE(printable(message)) << message;
  ParseResult parsed = parse_payload("Date,Open,High,Low,Close,Volume\n2020-01-02,1\x1b]0;x\x07,2,1,2,3\n");
  ASSERT_EQ(parsed.findings.size(), 1u);
  EXPECT_TRUE(printable(parsed.findings[0].reason)) << parsed.findings[0].reason;
  EXPECT_THAT(parsed.findings[0].reason, HasSubstr("1\\x1B]0;x\\x07"));
}

TEST(CsvBinary, AlphaVantageIntradayFileIsRefusedAsIntraday) {
  const std::string text =
      slurp(kShared / "vendor-samples/alphavantage/romeltorres/mock_time_series_extended.csv");
  ASSERT_FALSE(text.empty());
  EXPECT_THAT(expect_error([&] { parse_payload(text); }, ErrorCategory::kInvalidInput),
              HasSubstr("column 'time' holds intraday times; ingest the file with --timeframe 1m"));
}

TEST(CsvBinary, PrintableExcerpt) {
  EXPECT_EQ(printable_excerpt("abc"), "abc");
  EXPECT_EQ(printable_excerpt(std::string("a\0b\n\xe9", 5)), "a\\x00b\\x0A\\xE9");
  EXPECT_EQ(printable_excerpt("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace trib::providers
