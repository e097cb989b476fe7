// The object store on Azure Blob Storage (REST, service version net::azure::kApiVersion).
//
//   put_if_absent / put_if / put   Put Blob (BlockBlob) with If-None-Match: * or If-Match: <ETag>,
//                                  Content-MD5 of the body; above single_put_max_bytes: Put Block
//                                  per block (ids carry a per-upload nonce, so two writers racing
//                                  on one name never commit each other's blocks), then Put Block
//                                  List with the condition and x-ms-blob-content-md5: the blob
//                                  changes atomically at that one call.
//   get / get_range / head         Get Blob (x-ms-range for ranges) / Get Blob Properties
//   list / list_info               List Blobs with prefix, following NextMarker
//   copy                           Copy Blob within the account (polled while pending)
//   remove                         Delete Blob (snapshots included)
#include <algorithm>
#include <mutex>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/net/base64.hpp"
#include "trib/net/url.hpp"

namespace trib::lake {

namespace az = net::azure;

namespace {

void validate_container(std::string_view name) {
  auto bad = [&](std::string_view why) {
    throw Error::InvalidInput(fmt::format(
        "Azure container name '{}' is invalid: {} (3-63 characters: lower-case letters, digits and "
        "single hyphens, starting and ending with a letter or digit)",
        name, why));
  };
  if (name.size() < 3 || name.size() > 63) bad("wrong length");
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-') bad(fmt::format("character '{}' is not allowed", c));
    if (c == '-' && (i == 0 || i + 1 == name.size() || name[i - 1] == '-')) bad("misplaced hyphen");
  }
}

std::string normalize_prefix(std::string prefix) {
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix.empty()) return prefix;
  validate_key(prefix);
  return prefix + "/";
}

// Block ids: all of one length per blob (Azure's rule), unique per upload.
std::string block_id(uint64_t nonce, size_t index) {
  return net::base64_encode(fmt::format("{:016x}-{:08d}", nonce, index));
}

class AzureBlobStore final : public ObjectStore {
 public:
  AzureBlobStore(const az::StorageAccount& account, const AzureStoreOptions& options)
      : options_(options),
        prefix_(normalize_prefix(options.prefix)),
        client_(account, options) {
    validate_container(options_.container);
    if (options_.block_bytes == 0 || options_.single_put_max_bytes == 0) {
      throw Error::InvalidInput("Azure store: block_bytes and single_put_max_bytes must be positive");
    }
    container_path_ = "/" + options_.container;
    const std::string what = fmt::format("opening container {} of {}", options_.container, account.describe());
    if (options_.create_container) {
      net::HttpRequest req;
      req.method = "PUT";
      req.url = client_.url(az::Service::kBlob, container_path_, "restype=container");
      const auto res = client_.send(req);
      if (!res.ok() && az::parse_service_error(res).code != "ContainerAlreadyExists") throw az::to_error(res, what);
    } else {
      net::HttpRequest req;
      req.method = "GET";  // Get Container Properties
      req.url = client_.url(az::Service::kBlob, container_path_, "restype=container");
      const auto res = client_.send(req);
      if (res.status == 404) {
        throw Error::NotFound(fmt::format(
            "{}: the container does not exist: run `trib init` (it creates it) or create it in the portal", what));
      }
      if (!res.ok()) throw az::to_error(res, what);
    }
  }

  bool put_if_absent(std::string_view key, std::string_view bytes, Durability) override {
    return write(key, bytes, WriteCondition::absent()).has_value();
  }

  void put(std::string_view key, std::string_view bytes, Durability) override {
    write(key, bytes, WriteCondition::always());
  }

  std::optional<std::string> put_if(std::string_view key, std::string_view bytes, const WriteCondition& condition,
                                    Durability) override {
    if (condition.when == WriteIf::kMatch && condition.etag.empty()) {
      throw Error::InvalidInput(fmt::format("put_if {}: a kMatch condition needs an ETag", key));
    }
    return write(key, bytes, condition);
  }

  std::string get(std::string_view key) const override {
    validate_key(key);
    net::HttpRequest req;
    req.url = blob_url(key);
    auto res = client_.send(req);
    if (res.status == 404) throw not_found(key, res);
    if (!res.ok()) throw az::to_error(res, "GET " + describe(key));
    return std::move(res.body);
  }

  std::optional<ObjectInfo> head(std::string_view key) const override {
    validate_key(key);
    net::HttpRequest req;
    req.method = "HEAD";
    req.url = blob_url(key);
    const auto res = client_.send(req);
    if (res.status == 404) {
      check_container(res, key);
      return std::nullopt;
    }
    if (!res.ok()) throw az::to_error(res, "HEAD " + describe(key));
    return info_of(key, res);
  }

  std::string get_range(std::string_view key, uint64_t offset, uint64_t length) const override {
    validate_key(key);
    if (length == 0) {
      const auto info = head(key);
      if (!info) throw Error::NotFound(fmt::format("{} does not exist", describe(key)));
      if (offset > info->size) throw range_error(key, offset, info->size);
      return {};
    }
    net::HttpRequest req;
    req.url = blob_url(key);
    const uint64_t last = length > UINT64_MAX - offset ? UINT64_MAX - 1 : offset + length - 1;
    req.set_header("x-ms-range", fmt::format("bytes={}-{}", offset, last));
    auto res = client_.send(req);
    if (res.status == 404) throw not_found(key, res);
    if (res.status == 416) {  // offset at or past the end: "" at the end, else the caller's error
      const auto info = head(key);
      if (!info) throw Error::NotFound(fmt::format("{} does not exist", describe(key)));
      if (offset == info->size) return {};
      throw range_error(key, offset, info->size);
    }
    if (!res.ok()) throw az::to_error(res, "GET range of " + describe(key));
    if (res.status == 200 && offset > 0) {  // a server that ignored the range: cut it ourselves
      return offset >= res.body.size() ? std::string() : res.body.substr(offset, length);
    }
    if (res.body.size() > length) res.body.resize(length);
    return std::move(res.body);
  }

  bool exists(std::string_view key) const override { return head(key).has_value(); }

  std::optional<uint64_t> size(std::string_view key) const override {
    auto info = head(key);
    if (!info) return std::nullopt;
    return info->size;
  }

  std::vector<std::string> list(std::string_view prefix) const override {
    std::vector<std::string> out;
    for (auto& info : list_info(prefix)) out.push_back(std::move(info.key));
    return out;
  }

  std::vector<ObjectInfo> list_info(std::string_view prefix) const override {
    if (!prefix.empty()) validate_key(prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix);
    // A prefix names a folder, with or without its trailing '/' ("l" lists l/..., not l-x).
    std::string full = prefix_ + std::string(prefix);
    if (!prefix.empty() && full.back() != '/') full += '/';
    std::vector<ObjectInfo> out;
    std::string marker;
    do {
      std::string query = "restype=container&comp=list&maxresults=5000";
      if (!full.empty()) query += "&prefix=" + net::percent_encode(full);
      if (!marker.empty()) query += "&marker=" + net::percent_encode(marker);
      net::HttpRequest req;
      req.url = client_.url(az::Service::kBlob, container_path_, query);
      const auto res = client_.send(req);
      if (!res.ok()) throw az::to_error(res, fmt::format("listing {}", describe(prefix)));
      BlobListPage page = parse_blob_list(res.body);
      for (auto& blob : page.blobs) {
        if (!blob.key.starts_with(prefix_)) continue;
        std::string key = blob.key.substr(prefix_.size());
        if (!listable(key)) continue;
        blob.key = std::move(key);
        out.push_back(std::move(blob));
      }
      marker = std::move(page.next_marker);
    } while (!marker.empty());
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  std::string copy(std::string_view from, std::string_view to, Durability) override {
    validate_key(from);
    validate_key(to);
    net::HttpRequest req;
    req.method = "PUT";
    req.url = blob_url(to);
    // Within the account: the request's own authorisation covers the source (SharedKey); with
    // a SAS the source URL carries the token.
    req.set_header("x-ms-copy-source", blob_url(from));
    auto res = client_.send(req);
    if (res.status == 404) throw not_found(from, res);
    if (!res.ok()) throw az::to_error(res, fmt::format("copying {} to {}", describe(from), describe(to)));
    std::string status(res.header("x-ms-copy-status").value_or("success"));
    std::string etag = quoted_etag(res.header("ETag").value_or(""));
    // A copy across accounts or of a large blob may be pending: wait for it (bounded).
    for (int i = 0; status == "pending" && i < 600; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      net::HttpRequest h;
      h.method = "HEAD";
      h.url = blob_url(to);
      const auto props = client_.send(h);
      if (!props.ok()) throw az::to_error(props, "waiting for the copy to " + describe(to));
      status = std::string(props.header("x-ms-copy-status").value_or("success"));
      etag = quoted_etag(props.header("ETag").value_or(""));
    }
    if (status != "success") {
      throw Error::Retryable(fmt::format("copying {} to {}: the copy ended '{}'", describe(from), describe(to), status));
    }
    return etag;
  }

  // Acknowledged writes are durable already: only the keys are checked.
  void sync(const std::vector<std::string>& keys) override {
    for (const auto& key : keys) validate_key(key);
  }

  bool remove(std::string_view key) override {
    validate_key(key);
    net::HttpRequest req;
    req.method = "DELETE";
    req.url = blob_url(key);
    req.set_header("x-ms-delete-snapshots", "include");
    const auto res = client_.send(req);
    if (res.status == 404) {
      check_container(res, key);
      return false;
    }
    if (!res.ok()) throw az::to_error(res, "DELETE " + describe(key));
    return true;
  }

  std::string describe(std::string_view key) const override {
    return fmt::format("azure://{}/{}/{}{}", client_.account().name, options_.container, prefix_, key);
  }

  std::optional<std::filesystem::path> local_path(std::string_view) const override { return std::nullopt; }

 private:
  // Keys we show: none with a segment starting with '.' (the store's own names, as locally).
  static bool listable(std::string_view key) {
    size_t start = 0;
    while (start < key.size()) {
      if (key[start] == '.') return false;
      const size_t slash = key.find('/', start);
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return !key.empty();
  }

  std::string blob_path(std::string_view key) const {
    return container_path_ + "/" + net::percent_encode(prefix_ + std::string(key), /*keep_slash=*/true);
  }
  std::string blob_url(std::string_view key, std::string_view query = {}) const {
    return client_.url(az::Service::kBlob, blob_path(key), query);
  }

  ObjectInfo info_of(std::string_view key, const net::HttpResponse& res) const {
    ObjectInfo info;
    info.key = std::string(key);
    const std::string length(res.header("Content-Length").value_or("0"));
    info.size = std::strtoull(length.c_str(), nullptr, 10);
    info.etag = quoted_etag(res.header("ETag").value_or(""));
    info.content_md5 = std::string(res.header("Content-MD5").value_or(""));
    return info;
  }

  // A 404 on a blob: a missing container is a configuration error, not a missing object.
  void check_container(const net::HttpResponse& res, std::string_view key) const {
    if (az::parse_service_error(res).code == "ContainerNotFound") throw az::to_error(res, describe(key));
  }
  Error not_found(std::string_view key, const net::HttpResponse& res) const {
    check_container(res, key);
    return Error::NotFound(fmt::format("{} does not exist", describe(key)));
  }
  Error range_error(std::string_view key, uint64_t offset, uint64_t size) const {
    return Error::InvalidInput(fmt::format("{}: range offset {} is past the end ({} bytes)", describe(key), offset, size));
  }

  static void apply_condition(net::HttpRequest& req, const WriteCondition& condition) {
    if (condition.when == WriteIf::kAbsent) req.set_header("If-None-Match", "*");
    if (condition.when == WriteIf::kMatch) req.set_header("If-Match", condition.etag);
  }

  // The write behind every put: returns the new ETag, or nullopt when the condition failed.
  std::optional<std::string> write(std::string_view key, std::string_view bytes, const WriteCondition& condition) {
    validate_key(key);
    const std::string md5 = az::content_md5(bytes);
    int attempts = 1;
    net::HttpResponse res = bytes.size() <= options_.single_put_max_bytes
                                ? put_blob(key, bytes, md5, condition, attempts)
                                : put_blocks(key, bytes, md5, condition, attempts);
    if (res.status == 201) return quoted_etag(res.header("ETag").value_or(""));
    const std::string code = az::parse_service_error(res).code;
    const bool condition_failed = (condition.when == WriteIf::kAbsent && res.status == 409 && code == "BlobAlreadyExists") ||
                                  (condition.when == WriteIf::kMatch && (res.status == 412 || (res.status == 404 && code == "BlobNotFound"))) ||
                                  (condition.when == WriteIf::kAbsent && res.status == 412);
    if (condition_failed) {
      // An earlier attempt may have written these very bytes and lost its answer: then the write
      // happened (ours), and its condition held when it did.
      if (attempts > 1) {
        if (auto etag = etag_if_ours(key, bytes.size(), md5)) return etag;
      }
      return std::nullopt;
    }
    if (res.status == 404) check_container(res, key);
    throw az::to_error(res, "PUT " + describe(key));
  }

  std::optional<std::string> etag_if_ours(std::string_view key, size_t size, const std::string& md5) {
    net::HttpRequest req;
    req.method = "HEAD";
    req.url = blob_url(key);
    const auto res = client_.send(req);
    if (!res.ok()) return std::nullopt;
    const auto stored_md5 = res.header("Content-MD5");
    if (!stored_md5 || *stored_md5 != md5 || info_of(key, res).size != size) return std::nullopt;
    return quoted_etag(res.header("ETag").value_or(""));
  }

  net::HttpResponse put_blob(std::string_view key, std::string_view bytes, const std::string& md5,
                             const WriteCondition& condition, int& attempts) {
    net::HttpRequest req;
    req.method = "PUT";
    req.url = blob_url(key);
    req.body = std::string(bytes);
    req.set_header("x-ms-blob-type", "BlockBlob");
    req.set_header("Content-Type", "application/octet-stream");
    req.set_header("Content-MD5", md5);
    apply_condition(req, condition);
    return client_.send(std::move(req), &attempts);
  }

  net::HttpResponse put_blocks(std::string_view key, std::string_view bytes, const std::string& md5,
                               const WriteCondition& condition, int& attempts) {
    std::random_device random;
    const uint64_t nonce = (uint64_t{random()} << 32) ^ random();
    std::string list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
    size_t index = 0;
    for (uint64_t offset = 0; offset < bytes.size(); offset += options_.block_bytes, ++index) {
      const std::string_view block = bytes.substr(offset, options_.block_bytes);
      const std::string id = block_id(nonce, index);
      net::HttpRequest req;
      req.method = "PUT";
      req.url = blob_url(key, "comp=block&blockid=" + net::percent_encode(id));
      req.body = std::string(block);
      req.set_header("Content-MD5", az::content_md5(block));
      const auto res = client_.send(std::move(req));
      if (!res.ok()) {
        if (res.status == 404) check_container(res, key);
        throw az::to_error(res, fmt::format("PUT block {} of {}", index, describe(key)));
      }
      list += "<Latest>" + id + "</Latest>";
    }
    list += "</BlockList>";
    net::HttpRequest req;
    req.method = "PUT";
    req.url = blob_url(key, "comp=blocklist");
    req.body = std::move(list);
    req.set_header("Content-Type", "application/xml");
    req.set_header("x-ms-blob-content-type", "application/octet-stream");
    req.set_header("x-ms-blob-content-md5", md5);
    apply_condition(req, condition);
    return client_.send(std::move(req), &attempts);
  }

  // One StorageClient (one libcurl handle) per concurrent call: the store is thread-safe, and a
  // thread reuses a pooled client's open connection.
  class ClientPool {
   public:
    ClientPool(az::StorageAccount account, const AzureStoreOptions& options)
        : account_(std::move(account)), options_(options.client), stats_(options.stats ? options.stats : std::make_shared<az::ClientStats>()) {}
    const az::StorageAccount& account() const { return account_; }
    std::string url(az::Service service, std::string_view path, std::string_view query = {}) const {
      return account_.url(service, path, query);
    }
    net::HttpResponse send(net::HttpRequest request, int* attempts = nullptr) const {
      std::unique_ptr<az::StorageClient> client;
      {
        std::lock_guard lock(mu_);
        if (!free_.empty()) {
          client = std::move(free_.back());
          free_.pop_back();
        }
      }
      if (!client) client = std::make_unique<az::StorageClient>(account_, options_, stats_);
      net::HttpResponse res = client->send(std::move(request), attempts);
      std::lock_guard lock(mu_);
      free_.push_back(std::move(client));
      return res;
    }

   private:
    az::StorageAccount account_;
    az::ClientOptions options_;
    std::shared_ptr<az::ClientStats> stats_;
    mutable std::mutex mu_;
    mutable std::vector<std::unique_ptr<az::StorageClient>> free_;
  };

  AzureStoreOptions options_;
  std::string prefix_;
  std::string container_path_;
  ClientPool client_;
};

}  // namespace

std::unique_ptr<ObjectStore> open_azure_store(const net::azure::StorageAccount& account, const AzureStoreOptions& options) {
  return std::make_unique<AzureBlobStore>(account, options);
}

}  // namespace trib::lake
