// The hot cache's value format (trib/catalog/hot_codec.hpp).
#include "trib/catalog/hot_codec.hpp"

#include <cmath>
#include <cstring>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "trib/core/error.hpp"

namespace trib::catalog {

namespace {

constexpr char kHotMagic[4] = {'T', 'R', 'H', 'C'};
constexpr uint8_t kHotFormat = 1;
constexpr uint8_t kHasVwap = 1, kHasTrades = 2;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_text(std::string& out, std::string_view text) {
  if (text.size() > UINT16_MAX) throw Error::InvalidInput("hot cache: lineage text over 64 KiB");
  put<uint16_t>(out, static_cast<uint16_t>(text.size()));
  out.append(text);
}

// Reads what encode_hot_rows wrote; every read is bounds-checked.
class HotReader {
 public:
  explicit HotReader(std::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string text() {
    const size_t n = get<uint16_t>();
    need(n);
    std::string out(bytes_.substr(pos_, n));
    pos_ += n;
    return out;
  }
  void need(size_t n) const {
    if (bytes_.size() - pos_ < n) {
      throw Error::DataLoss("hot cache entry is truncated; rebuild it with `trib catalog rebuild`");
    }
  }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_hot_rows(const std::vector<HotBar>& rows) {
  // Lineage (source, raw id, fetch time) is shared by most rows: stored once, referenced by index.
  std::map<std::tuple<std::string_view, std::string_view, int64_t>, uint32_t> lineage;
  std::vector<uint32_t> index_of(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const HotBar& h = rows[i];
    if (i > 0 && !(rows[i - 1].ts_ns < h.ts_ns)) {
      throw Error::InvalidInput("hot cache rows must be strictly ascending by ts");
    }
    for (double v : {h.open, h.high, h.low, h.close, h.volume}) {
      if (!std::isfinite(v)) {
        throw Error::InvalidInput(fmt::format(
            "hot cache row at ts {} has a non-finite price or volume", h.ts_ns));
      }
    }
    auto [it, inserted] = lineage.try_emplace({h.source, h.raw_id, h.fetched_at_ns},
                                              static_cast<uint32_t>(lineage.size()));
    index_of[i] = it->second;
  }
  std::vector<const std::tuple<std::string_view, std::string_view, int64_t>*> by_index(lineage.size());
  for (const auto& [key, index] : lineage) by_index[index] = &key;
  std::string out(kHotMagic, sizeof kHotMagic);
  put<uint8_t>(out, kHotFormat);
  put<uint32_t>(out, static_cast<uint32_t>(by_index.size()));
  for (const auto* key : by_index) {
    put_text(out, std::get<0>(*key));
    put_text(out, std::get<1>(*key));
    put<int64_t>(out, std::get<2>(*key));
  }
  put<uint32_t>(out, static_cast<uint32_t>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    const HotBar& h = rows[i];
    put<int64_t>(out, h.ts_ns);
    put<int32_t>(out, h.session_date);
    for (double v : {h.open, h.high, h.low, h.close, h.volume}) put<double>(out, v);
    put<uint8_t>(out, static_cast<uint8_t>((h.vwap ? kHasVwap : 0) | (h.trades ? kHasTrades : 0)));
    if (h.vwap) put<double>(out, *h.vwap);
    if (h.trades) put<int64_t>(out, *h.trades);
    put<uint32_t>(out, index_of[i]);
  }
  return out;
}

std::vector<HotBar> decode_hot_rows(std::string_view bytes) {
  HotReader in(bytes);
  in.need(sizeof kHotMagic);
  if (bytes.substr(0, sizeof kHotMagic) != std::string_view(kHotMagic, sizeof kHotMagic)) {
    throw Error::DataLoss("hot cache entry has no TRHC header; rebuild it with `trib catalog rebuild`");
  }
  in.get<uint32_t>();  // the magic, already checked
  if (const uint8_t format = in.get<uint8_t>(); format != kHotFormat) {
    throw Error::DataLoss(fmt::format("hot cache entry has format {}; this build reads {}",
                                      format, kHotFormat));
  }
  struct Lineage {
    std::string source, raw_id;
    int64_t fetched_at_ns;
  };
  const uint32_t n_lineage = in.get<uint32_t>();
  in.need(n_lineage);  // at least a byte each: a hostile count cannot force an allocation
  std::vector<Lineage> lineage;
  lineage.reserve(n_lineage);
  for (uint32_t i = 0; i < n_lineage; ++i) {
    Lineage l;
    l.source = in.text();
    l.raw_id = in.text();
    l.fetched_at_ns = in.get<int64_t>();
    lineage.push_back(std::move(l));
  }
  const uint32_t n_rows = in.get<uint32_t>();
  in.need(static_cast<size_t>(n_rows) * 57);  // the smallest row
  std::vector<HotBar> rows;
  rows.reserve(n_rows);
  for (uint32_t i = 0; i < n_rows; ++i) {
    HotBar h;
    h.ts_ns = in.get<int64_t>();
    h.session_date = in.get<int32_t>();
    h.open = in.get<double>();
    h.high = in.get<double>();
    h.low = in.get<double>();
    h.close = in.get<double>();
    h.volume = in.get<double>();
    const uint8_t flags = in.get<uint8_t>();
    if (flags & kHasVwap) h.vwap = in.get<double>();
    if (flags & kHasTrades) h.trades = in.get<int64_t>();
    const uint32_t index = in.get<uint32_t>();
    if (index >= lineage.size()) throw Error::DataLoss("hot cache entry names a lineage it lacks");
    h.source = lineage[index].source;
    h.raw_id = lineage[index].raw_id;
    h.fetched_at_ns = lineage[index].fetched_at_ns;
    rows.push_back(std::move(h));
  }
  if (!in.done()) throw Error::DataLoss("hot cache entry has trailing bytes");
  return rows;
}


}  // namespace trib::catalog
