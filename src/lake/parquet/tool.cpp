#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/lake/parquet_tool.hpp"

namespace trib::parquet {
namespace {

// Exact decimal text of a big-endian two's-complement integer scaled by 10^-scale.
std::string decimal_text(std::string_view be_bytes, int scale) {
  std::vector<uint8_t> mag(be_bytes.begin(), be_bytes.end());
  const bool negative = !mag.empty() && (mag[0] & 0x80);
  if (negative) {  // two's complement -> magnitude
    for (auto& b : mag) b = static_cast<uint8_t>(~b);
    for (size_t i = mag.size(); i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }
  std::string digits;
  while (std::any_of(mag.begin(), mag.end(), [](uint8_t b) { return b != 0; })) {
    unsigned rem = 0;
    for (auto& b : mag) {
      unsigned cur = (rem << 8) | b;
      b = static_cast<uint8_t>(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(static_cast<char>('0' + rem));
  }
  if (digits.empty()) digits = "0";
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  if (scale > 0) digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  return negative ? "-" + digits : digits;
}

std::string decimal_of_int(int64_t v, int scale) {
  std::string be(8, '\0');
  for (int i = 0; i < 8; ++i) be[static_cast<size_t>(i)] = static_cast<char>((static_cast<uint64_t>(v) >> (56 - 8 * i)) & 0xff);
  return decimal_text(be, scale);
}

int64_t to_ns(int64_t v, TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis: return v * 1'000'000;
    case TimeUnit::kMicros: return v * 1'000;
    case TimeUnit::kNanos: return v;
  }
  return v;
}

std::string time_of_day(int64_t ns) {
  std::string ts = format_ts_ns(ns);  // 1970-01-01THH:MM:SS[.f]Z
  return ts.substr(11, ts.size() - 12);
}

std::string hex(std::string_view bytes) {
  std::string out = "0x";
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::string double_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", v);
}

std::string format_i64(const ColumnSchema& s, int64_t v) {
  switch (s.logical) {
    case LogicalType::kTimestamp: return format_ts_ns(to_ns(v, s.time_unit));
    case LogicalType::kTime: return time_of_day(to_ns(v, s.time_unit));
    case LogicalType::kDecimal: return decimal_of_int(v, s.scale);
    case LogicalType::kInt: return s.int_signed ? std::to_string(v) : std::to_string(static_cast<uint64_t>(v));
    default: return std::to_string(v);
  }
}

std::string format_i32(const ColumnSchema& s, int32_t v) {
  switch (s.logical) {
    case LogicalType::kDate: return Date(v).to_string();
    case LogicalType::kTime: return time_of_day(to_ns(v, s.time_unit));
    case LogicalType::kDecimal: return decimal_of_int(v, s.scale);
    case LogicalType::kInt:
      if (!s.int_signed) {
        if (s.int_bit_width == 8) return std::to_string(static_cast<uint8_t>(v));
        if (s.int_bit_width == 16) return std::to_string(static_cast<uint16_t>(v));
        return std::to_string(static_cast<uint32_t>(v));
      }
      return std::to_string(v);
    default: return std::to_string(v);
  }
}

std::string format_bytes(const ColumnSchema& s, std::string_view v) {
  switch (s.logical) {
    case LogicalType::kString: case LogicalType::kJson: case LogicalType::kEnum: return std::string(v);
    case LogicalType::kDecimal: return decimal_text(v, s.scale);
    case LogicalType::kUuid:
      if (v.size() == 16) {
        std::string h = hex(v).substr(2);
        return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
      }
      return hex(v);
    default: return hex(v);
  }
}

std::string format_stat(const ColumnSchema& s, const StatValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "";
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* i = std::get_if<int32_t>(&v)) return format_i32(s, *i);
  if (auto* i = std::get_if<int64_t>(&v)) {
    return s.physical == PhysicalType::kInt96 ? format_ts_ns(*i) : format_i64(s, *i);
  }
  if (auto* f = std::get_if<float>(&v)) return double_text(*f);
  if (auto* d = std::get_if<double>(&v)) return double_text(*d);
  return format_bytes(s, std::get<std::string>(v));
}

std::string type_text(const ColumnSchema& s) {
  std::string t(to_string(s.physical));
  if (s.physical == PhysicalType::kFixedLenByteArray) t += fmt::format("({})", s.type_length);
  static const char* kUnits[] = {"MILLIS", "MICROS", "NANOS"};
  switch (s.logical) {
    case LogicalType::kNone: break;
    case LogicalType::kString: t += " STRING"; break;
    case LogicalType::kJson: t += " JSON"; break;
    case LogicalType::kEnum: t += " ENUM"; break;
    case LogicalType::kUuid: t += " UUID"; break;
    case LogicalType::kDate: t += " DATE"; break;
    case LogicalType::kTimestamp:
      t += fmt::format(" TIMESTAMP({}, {})", kUnits[static_cast<int>(s.time_unit)], s.utc ? "UTC" : "local");
      break;
    case LogicalType::kTime: t += fmt::format(" TIME({})", kUnits[static_cast<int>(s.time_unit)]); break;
    case LogicalType::kDecimal: t += fmt::format(" DECIMAL({}, {})", s.precision, s.scale); break;
    case LogicalType::kInt: t += fmt::format(" INT({}, {})", s.int_bit_width, s.int_signed ? "signed" : "unsigned"); break;
  }
  return t;
}

bool needs_quotes(std::string_view v) {
  return v.find_first_of(",\"\r\n") != std::string_view::npos || v.empty() ||
         v.front() == ' ' || v.back() == ' ';
}

void csv_field(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

nlohmann::json json_value(const ColumnSchema& s, const ColumnVector& c, size_t row) {
  if (c.is_null(row)) return nullptr;
  switch (c.type) {
    case PhysicalType::kBoolean: return c.b8[row] != 0;
    case PhysicalType::kFloat: return std::isfinite(c.f32[row]) ? nlohmann::json(c.f32[row]) : nlohmann::json(double_text(c.f32[row]));
    case PhysicalType::kDouble: return std::isfinite(c.f64[row]) ? nlohmann::json(c.f64[row]) : nlohmann::json(double_text(c.f64[row]));
    case PhysicalType::kInt32:
      if (s.logical == LogicalType::kNone || (s.logical == LogicalType::kInt && s.int_signed)) return c.i32[row];
      break;
    case PhysicalType::kInt64:
      if (s.logical == LogicalType::kNone || (s.logical == LogicalType::kInt && s.int_signed)) return c.i64[row];
      if (s.logical == LogicalType::kInt) return static_cast<uint64_t>(c.i64[row]);
      break;
    default: break;
  }
  return format_value(s, c, row);
}

}  // namespace

std::string format_value(const ColumnSchema& s, const ColumnVector& c, size_t row) {
  switch (c.type) {
    case PhysicalType::kBoolean: return c.b8[row] ? "true" : "false";
    case PhysicalType::kInt32: return format_i32(s, c.i32[row]);
    case PhysicalType::kInt64: return format_i64(s, c.i64[row]);
    case PhysicalType::kInt96: return format_ts_ns(c.i64[row]);
    case PhysicalType::kFloat: return double_text(c.f32[row]);
    case PhysicalType::kDouble: return double_text(c.f64[row]);
    default: return format_bytes(s, c.str(row));
  }
}

void cat(const Reader& reader, const CatOptions& options, std::ostream& out) {
  const auto& meta = reader.metadata();
  if (options.format != "csv" && options.format != "json") {
    throw Error::InvalidInput(fmt::format("--format '{}' is not known; use csv or json", options.format));
  }
  std::vector<int> columns;
  if (options.columns.empty()) {
    for (size_t i = 0; i < meta.schema.columns.size(); ++i) columns.push_back(static_cast<int>(i));
  } else {
    for (const auto& name : options.columns) {
      int idx = meta.schema.find(name);
      if (idx < 0) {
        std::string names;
        for (const auto& c : meta.schema.columns) names += (names.empty() ? "" : ", ") + c.name;
        throw Error::InvalidInput(fmt::format("no column '{}'; the file has: {}", name, names));
      }
      columns.push_back(idx);
    }
  }
  std::string buf;
  if (options.format == "csv") {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) buf.push_back(',');
      csv_field(buf, meta.schema.columns[static_cast<size_t>(columns[i])].name);
    }
    buf.push_back('\n');
  }
  int64_t printed = 0;
  if (columns.empty()) {
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    return;
  }
  // Batch by batch: memory stays bounded however large the file's row groups are, and --limit
  // decodes no more than the batch that holds its last row.
  BatchReader batches(reader, columns, options.batch_rows);
  std::vector<ColumnVector> data;
  while ((options.limit < 0 || printed < options.limit) && batches.next(data)) {
    const size_t rows = data[0].num_rows;
    for (size_t row = 0; row < rows; ++row) {
      if (options.limit >= 0 && printed >= options.limit) break;
      if (options.format == "csv") {
        for (size_t i = 0; i < columns.size(); ++i) {
          if (i) buf.push_back(',');
          if (data[i].is_null(row)) continue;
          csv_field(buf, format_value(meta.schema.columns[static_cast<size_t>(columns[i])], data[i], row));
        }
        buf.push_back('\n');
      } else {
        nlohmann::ordered_json obj;
        for (size_t i = 0; i < columns.size(); ++i) {
          const auto& s = meta.schema.columns[static_cast<size_t>(columns[i])];
          obj[s.name] = json_value(s, data[i], row);
        }
        buf += obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        buf.push_back('\n');
      }
      ++printed;
      if (buf.size() > (1 << 20)) {
        out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        buf.clear();
      }
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

void inspect(const Reader& reader, std::ostream& out, bool json) {
  const auto& meta = reader.metadata();
  if (json) {
    nlohmann::ordered_json j;
    j["num_rows"] = meta.num_rows;
    j["version"] = meta.version;
    j["created_by"] = meta.created_by;
    for (const auto& c : meta.schema.columns) {
      j["schema"].push_back({{"name", c.name}, {"type", type_text(c)}, {"optional", c.optional}});
    }
    j["key_value"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : meta.key_value) j["key_value"][k] = v;
    j["row_groups"] = nlohmann::ordered_json::array();
    for (const auto& rg : meta.row_groups) {
      nlohmann::ordered_json g = {{"num_rows", rg.num_rows}, {"total_byte_size", rg.total_byte_size}};
      g["columns"] = nlohmann::ordered_json::array();
      for (size_t c = 0; c < rg.columns.size(); ++c) {
        const auto& ci = rg.columns[c];
        const auto& s = meta.schema.columns[c];
        nlohmann::ordered_json cj = {{"name", ci.path}, {"compression", std::string(to_string(ci.compression))},
                                     {"encodings", ci.encodings}, {"num_values", ci.num_values},
                                     {"compressed_bytes", ci.total_compressed_size},
                                     {"uncompressed_bytes", ci.total_uncompressed_size}};
        if (!std::holds_alternative<std::monostate>(ci.statistics.min)) cj["min"] = format_stat(s, ci.statistics.min);
        if (!std::holds_alternative<std::monostate>(ci.statistics.max)) cj["max"] = format_stat(s, ci.statistics.max);
        if (ci.statistics.null_count) cj["null_count"] = *ci.statistics.null_count;
        g["columns"].push_back(cj);
      }
      j["row_groups"].push_back(g);
    }
    out << j.dump(2) << "\n";
    return;
  }
  out << fmt::format("rows {}, row groups {}, format version {}, created by {}\n", meta.num_rows,
                     meta.row_groups.size(), meta.version, meta.created_by.empty() ? "(unknown)" : meta.created_by);
  out << "schema:\n";
  size_t width = 4;
  for (const auto& c : meta.schema.columns) width = std::max(width, c.name.size());
  for (const auto& c : meta.schema.columns) {
    out << fmt::format("  {:<{}}  {:<8}  {}\n", c.name, width, c.optional ? "OPTIONAL" : "REQUIRED", type_text(c));
  }
  if (!meta.key_value.empty()) {
    out << "key-value metadata:\n";
    for (const auto& [k, v] : meta.key_value) {
      out << fmt::format("  {} = {}\n", k, v.size() > 200 ? v.substr(0, 200) + "..." : v);
    }
  }
  for (size_t g = 0; g < meta.row_groups.size(); ++g) {
    const auto& rg = meta.row_groups[g];
    out << fmt::format("row group {}: {} rows, {} bytes uncompressed\n", g, rg.num_rows, rg.total_byte_size);
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const auto& ci = rg.columns[c];
      const auto& s = meta.schema.columns[c];
      std::string encodings;
      for (const auto& e : ci.encodings) encodings += (encodings.empty() ? "" : ",") + e;
      std::string stats;
      if (!std::holds_alternative<std::monostate>(ci.statistics.min)) {
        stats = fmt::format(", min {}, max {}", format_stat(s, ci.statistics.min), format_stat(s, ci.statistics.max));
      }
      if (ci.statistics.null_count) stats += fmt::format(", nulls {}", *ci.statistics.null_count);
      out << fmt::format("  {:<{}}  {} {} {} -> {} bytes{}\n", ci.path, width, to_string(ci.compression), encodings,
                         ci.total_uncompressed_size, ci.total_compressed_size, stats);
    }
  }
}

}  // namespace trib::parquet
