// What only the Azure Blob store does, against Azurite (the contract every store keeps is in
// object_store_test.cpp, ObjectStoreContract/Azure): credentials and SAS tokens, a missing
// container, block uploads, range reads of Parquet files (bytes transferred counted), retries
// through a fault-injecting proxy, and the List Blobs parser on hostile input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "../core/test_util.hpp"
#include "../support/azure_fixture.hpp"
#include "../support/fault_proxy.hpp"
#include "trib/core/error.hpp"
#include "trib/core/log.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/parquet.hpp"
#include "trib/net/azure_storage.hpp"
#include "trib/net/base64.hpp"
#include "trib/net/http_date.hpp"
#include "trib/net/url.hpp"

using namespace trib;
using ::testing::HasSubstr;
using ::testing::Not;
using trib::testing::category_of;
namespace az = trib::net::azure;

namespace {

class AzureStore : public ::testing::Test {
 protected:
  void SetUp() override {
    TRIB_AZURE_TEST_OR_SKIP(conn);
    connection_ = conn;
    account_ = az::parse_connection_string(connection_);
    options_.container = trib::testing::azure_unique_name("az");
    options_.create_container = true;
    options_.stats = std::make_shared<az::ClientStats>();
    store_ = lake::open_azure_store(account_, options_);
  }
  void TearDown() override {
    if (connection_.empty()) return;
    try {
      az::StorageClient client(account_);
      net::HttpRequest req;
      req.method = "DELETE";
      req.url = client.url(az::Service::kBlob, "/" + options_.container, "restype=container");
      client.send(req);
    } catch (...) {
    }
  }

  // An account SAS (the Account SAS rules of service version 2020-12-06 and later) signed with the
  // account key: services blob, resource types service/container/object, permissions `perms`,
  // expiring at `expiry` (unix seconds).
  std::string account_sas(const std::string& perms, int64_t expiry) const {
    auto iso = [](int64_t t) {
      const std::time_t tt = static_cast<std::time_t>(t);
      std::tm tm{};
      gmtime_r(&tt, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      return std::string(buf);
    };
    const std::string start = iso(expiry - 7200), end = iso(expiry);
    const std::string version(az::kApiVersion);
    const std::string to_sign = fmt::format("{}\n{}\nb\nsco\n{}\n{}\n\nhttps,http\n{}\n\n", account_.name, perms, start,
                                            end, version);
    const std::string sig = account_.key->sign(to_sign);
    return fmt::format("sv={}&ss=b&srt=sco&sp={}&st={}&se={}&spr=https,http&sig={}", version, perms,
                       net::percent_encode(start), net::percent_encode(end), net::percent_encode(sig));
  }

  std::string connection_;
  az::StorageAccount account_;
  lake::AzureStoreOptions options_;
  std::unique_ptr<lake::ObjectStore> store_;
};

TEST_F(AzureStore, WrongKeyIsAPermanentErrorThatNeverShowsTheKey) {
  az::StorageAccount wrong = account_;
  const std::string bad_key = net::base64_encode(std::string(64, 'k'));
  wrong.key.emplace(wrong.name, bad_key);
  lake::AzureStoreOptions o = options_;
  o.create_container = false;
  try {
    lake::open_azure_store(wrong, o);
    FAIL() << "a wrong key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kPermanent) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("403"));
    EXPECT_THAT(e.what(), HasSubstr("AZURE_STORAGE_KEY"));
    EXPECT_THAT(e.what(), Not(HasSubstr(bad_key)));
  }
}

TEST_F(AzureStore, MissingContainerIsNotFoundAndSaysHowToCreateIt) {
  lake::AzureStoreOptions o = options_;
  o.container = trib::testing::azure_unique_name("missing");
  o.create_container = false;
  try {
    lake::open_azure_store(account_, o);
    FAIL() << "a missing container was opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kNotFound) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(o.container));
    EXPECT_THAT(e.what(), HasSubstr("trib init"));
  }
  // A container removed under an open store: the next call says so, not "object missing".
  store_->put("k", "v");
  az::StorageClient client(account_);
  net::HttpRequest req;
  req.method = "DELETE";
  req.url = client.url(az::Service::kBlob, "/" + options_.container, "restype=container");
  ASSERT_EQ(client.send(req).status, 202);
  EXPECT_EQ(category_of([&] { store_->head("k"); }), ErrorCategory::kNotFound);
  try {
    store_->get("k");
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("container"));
  }
}

TEST_F(AzureStore, ContainerNamesAzureWouldRefuseAreInvalidInputBeforeAnyRequest) {
  for (const std::string& name : std::vector<std::string>{"ab", "UPPER", "a--b", "-ab", "ab-", "a_b", std::string(64, 'a')}) {
    lake::AzureStoreOptions o = options_;
    o.container = name;
    EXPECT_EQ(category_of([&] { lake::open_azure_store(account_, o); }), ErrorCategory::kInvalidInput) << name;
  }
}

TEST_F(AzureStore, SasTokenWorksAndAnExpiredOneIsPermanent) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  az::StorageAccount sas_account = account_;
  sas_account.key.reset();
  sas_account.sas = account_sas("rwdlac", now + 3600);
  lake::AzureStoreOptions o = options_;
  o.create_container = false;
  auto store = lake::open_azure_store(sas_account, o);
  ASSERT_TRUE(store->put_if_absent("sas/a", "through a SAS"));
  EXPECT_EQ(store->get("sas/a"), "through a SAS");
  EXPECT_EQ(store->list("sas/"), std::vector<std::string>{"sas/a"});
  EXPECT_FALSE(store->copy("sas/a", "sas/b").empty());
  EXPECT_EQ(store_->get("sas/b"), "through a SAS");

  az::StorageAccount expired = sas_account;
  expired.sas = account_sas("rwdlac", now - 60);
  try {
    lake::open_azure_store(expired, o);
    FAIL() << "an expired SAS was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::kPermanent) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("SAS"));
    EXPECT_THAT(e.what(), Not(HasSubstr("sig=")));
  }
}

TEST_F(AzureStore, LargeObjectsGoUpInBlocksAndAppearAtOnce) {
  lake::AzureStoreOptions o = options_;
  o.create_container = false;
  o.single_put_max_bytes = 100'000;
  o.block_bytes = 30'000;
  auto store = lake::open_azure_store(account_, o);
  std::string big(250'001, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  const int64_t before = options_.stats->requests;
  auto etag = store->put_if("big/obj", big, lake::WriteCondition::absent());
  ASSERT_TRUE(etag.has_value());
  EXPECT_GE(options_.stats->requests - before, 9 + 1);  // 9 blocks + the block list
  EXPECT_EQ(store->get("big/obj"), big);
  EXPECT_EQ(store->head("big/obj")->etag, *etag);
  // The condition holds for the whole upload: a second put-if-absent commits nothing.
  std::string other(big.size(), 'x');
  EXPECT_FALSE(store->put_if("big/obj", other, lake::WriteCondition::absent()).has_value());
  EXPECT_EQ(store->get("big/obj"), big);
  // Compare-and-swap through blocks.
  auto next = store->put_if("big/obj", other, lake::WriteCondition::match(*etag));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(store->get("big/obj"), other);
  EXPECT_FALSE(store->put_if("big/obj", big, lake::WriteCondition::match(*etag)).has_value());
}

// A 2-column read of a Parquet file through object_source transfers the footer and those
// columns' chunks, not the file.
TEST_F(AzureStore, ParquetReadsTransferOnlyTheColumnsRead) {
  using namespace trib::parquet;
  Schema schema;
  for (int c = 0; c < 8; ++c) schema.columns.push_back(ColumnSchema::Double(fmt::format("c{}", c)));
  WriterOptions wo;
  wo.compression = Compression::kUncompressed;  // sizes proportional to columns, so the bound is clear
  wo.row_group_rows = 50'000;
  StringSink sink;
  {
    Writer writer(sink, schema, wo);
    std::vector<ColumnVector> cols(8);
    for (int c = 0; c < 8; ++c) {
      cols[c].type = PhysicalType::kDouble;
      for (int i = 0; i < 100'000; ++i) cols[c].f64.push_back(i * 0.5 + c * 1e6 + (i * 7919 % 1000) * 1e-3);
      cols[c].num_rows = cols[c].f64.size();
    }
    writer.write_batch(cols);
    writer.close();
  }
  const std::string bytes = sink.buffer();
  store_->put("pq/data.parquet", bytes);

  const int64_t before = options_.stats->bytes_received;
  Reader reader(object_source(*store_, "pq/data.parquet"), "pq/data.parquet");
  BatchReader batches(reader, {reader.metadata().schema.find("c2"), reader.metadata().schema.find("c5")});
  std::vector<ColumnVector> batch;
  double sum = 0;
  int64_t rows = 0;
  while (batches.next(batch)) {
    rows += static_cast<int64_t>(batch[0].num_rows);
    for (double v : batch[0].f64) sum += v;
    for (double v : batch[1].f64) sum += v;
  }
  const int64_t transferred = options_.stats->bytes_received - before;
  EXPECT_EQ(rows, 100'000);
  double expected = 0;
  for (int c : {2, 5}) {
    for (int i = 0; i < 100'000; ++i) expected += i * 0.5 + c * 1e6 + (i * 7919 % 1000) * 1e-3;
  }
  EXPECT_DOUBLE_EQ(sum, expected);
  // 2 of 8 equal columns: a quarter of the file, plus the footer prefetch.
  EXPECT_LT(transferred, static_cast<int64_t>(bytes.size()) * 3 / 10) << transferred << " of " << bytes.size();
  EXPECT_GT(transferred, static_cast<int64_t>(bytes.size()) / 5);
  std::printf("2 of 8 columns: %lld of %zu bytes transferred (%.1f%%)\n", static_cast<long long>(transferred), bytes.size(),
              100.0 * static_cast<double>(transferred) / static_cast<double>(bytes.size()));
}

// Through a proxy that fails a third of the requests (503/500/429 before forwarding, or after
// the service applied them): every write lands exactly once and every answer is right.
TEST_F(AzureStore, RetriesThroughInjectedFaultsLoseAndDuplicateNothing) {
  const net::UrlParts target = net::parse_url(account_.blob_endpoint);
  trib::testing::FaultProxy proxy(0.2, 0.15, 42);
  proxy.start(target.host, target.port);
  az::StorageAccount via = account_;
  via.blob_endpoint = fmt::format("http://127.0.0.1:{}{}", proxy.port(), target.path);
  lake::AzureStoreOptions o = options_;
  o.create_container = false;
  o.client.retry.base_delay_ms = 1;
  o.client.retry.max_delay_ms = 5;
  o.client.retry.max_attempts = 12;
  auto store = lake::open_azure_store(via, o);
  const int64_t retries_before = options_.stats->retries;

  for (int i = 0; i < 40; ++i) {
    EXPECT_TRUE(store->put_if_absent(fmt::format("f/{:02d}", i), fmt::format("v{}", i))) << i;
  }
  for (int i = 0; i < 40; ++i) {
    EXPECT_FALSE(store->put_if_absent(fmt::format("f/{:02d}", i), "other")) << i;
  }
  // A compare-and-swap chain: each step must see the previous one's ETag, lost answers or not.
  auto etag = store->put_if("chain", "0", lake::WriteCondition::absent());
  ASSERT_TRUE(etag.has_value());
  for (int i = 1; i <= 30; ++i) {
    etag = store->put_if("chain", std::to_string(i), lake::WriteCondition::match(*etag));
    ASSERT_TRUE(etag.has_value()) << "step " << i;
  }
  proxy.set_rates(0, 0);
  EXPECT_EQ(store_->get("chain"), "30");
  EXPECT_EQ(store_->head("chain")->etag, *etag);
  const auto keys = store_->list("f/");
  ASSERT_EQ(keys.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(store_->get(keys[i]), fmt::format("v{}", i));
  EXPECT_GT(proxy.stats().failed_before, 0);
  EXPECT_GT(proxy.stats().lost_answers, 0);
  EXPECT_GT(options_.stats->retries - retries_before, 0);
}

// A conditional write whose connection closes without an answer after the service applied it,
// on a connection libcurl had reused: libcurl sends the write again by itself, and that copy gets
// 409 / 412. It was our write all the same (found by Content-MD5), not someone else's.
TEST_F(AzureStore, AConditionalWriteResentAfterADroppedAnswerIsStillOurs) {
  const net::UrlParts target = net::parse_url(account_.blob_endpoint);
  trib::testing::FaultProxy proxy(0, 0, 1);
  proxy.start(target.host, target.port);
  az::StorageAccount via = account_;
  via.blob_endpoint = fmt::format("http://127.0.0.1:{}{}", proxy.port(), target.path);
  lake::AzureStoreOptions o = options_;
  o.create_container = false;  // opening checks the container: the connection libcurl reuses
  auto store = lake::open_azure_store(via, o);
  auto write_to = [](std::string key, const char* condition) {
    return [key = "/" + key, condition](const httplib::Request& r) {
      return r.method == "PUT" && r.path.ends_with(key) && r.has_header(condition);
    };
  };

  proxy.inject_once(trib::testing::FaultProxy::Fault::kDropAfter, write_to("resent", "If-None-Match"));
  EXPECT_TRUE(store->put_if_absent("resent", "v1"));
  EXPECT_FALSE(store->put_if_absent("resent", "v2"));  // and a second writer still loses
  const auto etag = store->head("resent")->etag;

  proxy.inject_once(trib::testing::FaultProxy::Fault::kDropAfter, write_to("resent", "If-Match"));
  const auto swapped = store->put_if("resent", "v3", lake::WriteCondition::match(etag));
  ASSERT_TRUE(swapped.has_value());
  EXPECT_EQ(*swapped, store_->head("resent")->etag);
  EXPECT_EQ(store_->get("resent"), "v3");
  EXPECT_EQ(proxy.stats().dropped_after, 2);
}

TEST(AzureBlobList, ParsesPagesAndRefusesWhatIsNotAListing) {
  const auto page = lake::parse_blob_list(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"x\" ContainerName=\"c\">"
      "<Prefix>p/</Prefix><Blobs><Blob><Name>p/a&amp;b</Name><Properties><Content-Length>12</Content-Length>"
      "<Etag>0x8D1</Etag></Properties></Blob><Blob><Name>p/c</Name><Properties><Content-Length>0</Content-Length>"
      "<Etag>\"0x8D2\"</Etag></Properties></Blob></Blobs><NextMarker>m2</NextMarker></EnumerationResults>");
  ASSERT_EQ(page.blobs.size(), 2u);
  EXPECT_EQ(page.blobs[0].key, "p/a&b");
  EXPECT_EQ(page.blobs[0].size, 12u);
  EXPECT_EQ(page.blobs[0].etag, "\"0x8D1\"");  // one form for ETags: quoted, as in headers
  EXPECT_EQ(page.blobs[1].etag, "\"0x8D2\"");
  EXPECT_EQ(page.next_marker, "m2");
  EXPECT_TRUE(lake::parse_blob_list("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>").blobs.empty());
  for (const std::string bad : {"", "not xml", "<Error><Code>x</Code></Error>",
                                "<EnumerationResults><Blobs><Blob><Name>a</Name></Blob></Blobs></EnumerationResults>",
                                "<EnumerationResults><Blobs><Blob><Properties><Content-Length>1</Content-Length>"
                                "</Properties></Blob></Blobs></EnumerationResults>",
                                "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties><Content-Length>-1"
                                "</Content-Length></Properties></Blob></Blobs></EnumerationResults>"}) {
    EXPECT_EQ(category_of([&] { lake::parse_blob_list(bad); }), ErrorCategory::kDataLoss) << bad;
  }
}

}  // namespace
