#include "trib/lake/overlay_store.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace trib::lake {
namespace {

class OverlayStore final : public ObjectStore {
 public:
  OverlayStore(const ObjectStore& base, std::unique_ptr<ObjectStore> scratch)
      : base_(base), scratch_(std::move(scratch)) {}

  bool put_if_absent(std::string_view key, std::string_view bytes, Durability d) override {
    if (base_only(key)) return false;
    return scratch_->put_if_absent(key, bytes, d);
  }
  void put(std::string_view key, std::string_view bytes, Durability d) override { scratch_->put(key, bytes, d); }
  std::optional<std::string> put_if(std::string_view key, std::string_view bytes, const WriteCondition& condition,
                                    Durability d) override {
    if (base_only(key)) {
      // Copy on write: the base's object stands for the scratch one until scratch has its own.
      if (condition.when == WriteIf::kAbsent) return std::nullopt;
      if (condition.when == WriteIf::kMatch && base_.head(key)->etag != condition.etag) return std::nullopt;
      scratch_->put(key, bytes, d);
      return scratch_->head(key)->etag;
    }
    return scratch_->put_if(key, bytes, condition, d);
  }
  std::string get(std::string_view key) const override {
    return scratch_->exists(key) ? scratch_->get(key) : base_.get(key);
  }
  std::optional<ObjectInfo> head(std::string_view key) const override {
    if (auto info = scratch_->head(key)) return info;
    return base_.head(key);
  }
  std::string get_range(std::string_view key, uint64_t offset, uint64_t length) const override {
    return scratch_->exists(key) ? scratch_->get_range(key, offset, length) : base_.get_range(key, offset, length);
  }
  bool exists(std::string_view key) const override { return scratch_->exists(key) || base_.exists(key); }
  std::optional<uint64_t> size(std::string_view key) const override {
    if (auto s = scratch_->size(key)) return s;
    return base_.size(key);
  }
  std::vector<std::string> list(std::string_view prefix) const override {
    std::vector<std::string> out = scratch_->list(prefix);
    for (auto& key : base_.list(prefix)) out.push_back(std::move(key));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  std::vector<ObjectInfo> list_info(std::string_view prefix) const override {
    std::map<std::string, ObjectInfo> by_key;
    for (auto& info : base_.list_info(prefix)) by_key[info.key] = std::move(info);
    for (auto& info : scratch_->list_info(prefix)) by_key[info.key] = std::move(info);
    std::vector<ObjectInfo> out;
    for (auto& [key, info] : by_key) out.push_back(std::move(info));
    return out;
  }
  std::string copy(std::string_view from, std::string_view to, Durability d) override {
    if (scratch_->exists(from)) return scratch_->copy(from, to, d);
    scratch_->put(to, base_.get(from), d);
    return scratch_->head(to)->etag;
  }
  void sync(const std::vector<std::string>& keys) override { scratch_->sync(keys); }
  bool remove(std::string_view key) override { return scratch_->remove(key); }
  std::string describe(std::string_view key) const override {
    return scratch_->exists(key) ? scratch_->describe(key) : base_.describe(key);
  }
  std::optional<std::filesystem::path> local_path(std::string_view key) const override {
    return scratch_->exists(key) ? scratch_->local_path(key) : base_.local_path(key);
  }

 private:
  // Present in the base and not in scratch: a put-if-absent must fail as it would on the base.
  bool base_only(std::string_view key) const { return !scratch_->exists(key) && base_.exists(key); }

  const ObjectStore& base_;
  std::unique_ptr<ObjectStore> scratch_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_overlay_store(const ObjectStore& base, std::unique_ptr<ObjectStore> scratch) {
  return std::make_unique<OverlayStore>(base, std::move(scratch));
}

}  // namespace trib::lake
