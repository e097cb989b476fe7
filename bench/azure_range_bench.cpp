// Bytes a Parquet read transfers from a lake object, through parquet::object_source (range
// reads): bench/run-azure.mjs runs it on Azurite next to the file's size.
//
//   azure_range_bench CONTAINER KEY COLUMN,COLUMN...   (AZURE_STORAGE_CONNECTION_STRING set)
//     -> {"file_bytes", "bytes_transferred", "requests", "rows", "seconds"}
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "trib/core/error.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/parquet.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: azure_range_bench CONTAINER KEY COLUMN,COLUMN...\n");
    return 2;
  }
  try {
    trib::lake::AzureStoreOptions options;
    options.container = argv[1];
    options.stats = std::make_shared<trib::net::azure::ClientStats>();
    auto store = trib::lake::open_azure_store(trib::net::azure::account_from_environment({}), options);
    const auto info = store->head(argv[2]);
    if (!info) throw trib::Error::NotFound(fmt::format("no object {}", argv[2]));
    const int64_t bytes_before = options.stats->bytes_received, requests_before = options.stats->requests;
    const auto t0 = std::chrono::steady_clock::now();
    trib::parquet::Reader reader(trib::parquet::object_source(*store, argv[2]), argv[2]);
    std::vector<int> columns;
    const std::string list = argv[3];
    for (size_t start = 0; start <= list.size();) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      const int idx = reader.metadata().schema.find(list.substr(start, end - start));
      if (idx < 0) throw trib::Error::InvalidInput("no column " + list.substr(start, end - start));
      columns.push_back(idx);
      start = end + 1;
    }
    trib::parquet::BatchReader batches(reader, columns);
    std::vector<trib::parquet::ColumnVector> batch;
    int64_t rows = 0;
    while (batches.next(batch)) rows += static_cast<int64_t>(batch[0].num_rows);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("{{\"file_bytes\": {}, \"bytes_transferred\": {}, \"requests\": {}, \"rows\": {}, \"seconds\": {:.4f}}}\n",
               info->size, options.stats->bytes_received - bytes_before, options.stats->requests - requests_before, rows,
               seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "azure_range_bench: %s\n", e.what());
    return 1;
  }
}
