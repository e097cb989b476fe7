// parquet::object_source: a Parquet InputSource over an ObjectStore key, with range reads.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/parquet.hpp"

namespace trib::parquet {
namespace {

class ObjectSource final : public InputSource {
 public:
  ObjectSource(const lake::ObjectStore& store, std::string key, uint64_t tail_prefetch)
      : store_(store), key_(std::move(key)) {
    const auto info = store_.head(key_);
    if (!info) throw Error::NotFound(fmt::format("{} does not exist", store_.describe(key_)));
    size_ = info->size;
    tail_offset_ = size_ - std::min(size_, tail_prefetch);
    if (tail_offset_ < size_) {
      tail_ = store_.get_range(key_, tail_offset_, size_ - tail_offset_);
      if (tail_.size() != size_ - tail_offset_) throw truncated(tail_offset_, size_ - tail_offset_, tail_.size());
    }
  }

  uint64_t size() const override { return size_; }

  void read_at(uint64_t offset, size_t size, char* out) const override {
    if (offset > size_ || size > size_ - offset) {
      throw Error::DataLoss(fmt::format("{}: read of {} bytes at {} is past the end ({} bytes)",
                                        store_.describe(key_), size, offset, size_));
    }
    if (size == 0) return;
    if (offset >= tail_offset_ && !tail_.empty()) {  // inside the prefetched tail
      std::memcpy(out, tail_.data() + (offset - tail_offset_), size);
      return;
    }
    const std::string bytes = store_.get_range(key_, offset, size);
    if (bytes.size() != size) throw truncated(offset, size, bytes.size());
    std::memcpy(out, bytes.data(), size);
  }

 private:
  Error truncated(uint64_t offset, uint64_t want, uint64_t got) const {
    return Error::DataLoss(fmt::format("{}: read of {} bytes at {} returned {} (the object changed or shrank while read)",
                                       store_.describe(key_), want, offset, got));
  }

  const lake::ObjectStore& store_;
  std::string key_;
  uint64_t size_ = 0;
  uint64_t tail_offset_ = 0;
  std::string tail_;
};

}  // namespace

std::unique_ptr<InputSource> object_source(const lake::ObjectStore& store, std::string key, uint64_t tail_prefetch) {
  return std::make_unique<ObjectSource>(store, std::move(key), tail_prefetch);
}

}  // namespace trib::parquet
