#include <algorithm>
#include <memory>

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <fmt/format.h>

#include "parquet_internal.hpp"
#include "trib/core/error.hpp"

namespace trib::parquet::internal {

using apache::thrift::protocol::TCompactProtocolT;
using apache::thrift::transport::TMemoryBuffer;

template <typename T>
void serialize(const T& value, std::string& out) {
  auto buffer = std::make_shared<TMemoryBuffer>(1024);
  TCompactProtocolT<TMemoryBuffer> protocol(buffer);
  value.write(&protocol);
  uint8_t* data = nullptr;
  uint32_t size = 0;
  buffer->getBuffer(&data, &size);
  out.append(reinterpret_cast<const char*>(data), size);
}

template <typename T>
size_t deserialize(const uint8_t* data, size_t size, T& value, const char* what) {
  if (size > static_cast<size_t>(INT32_MAX)) {
    throw Error::DataLoss(fmt::format("{} is too large ({} bytes)", what, size));
  }
  // The configuration bounds the message: no string or list may claim more bytes than remain.
  auto config = std::make_shared<apache::thrift::TConfiguration>(
      static_cast<int>(size) + 64, static_cast<int>(size) + 64, /*recursionLimit=*/64);
  auto buffer = std::make_shared<TMemoryBuffer>(const_cast<uint8_t*>(data), static_cast<uint32_t>(size),
                                                TMemoryBuffer::OBSERVE, config);
  // String and container limits stop a hostile length from allocating gigabytes.
  // A list entry costs far more memory than its byte on the wire: cap list lengths too.
  const int32_t limit = static_cast<int32_t>(std::min<size_t>(size, 1 << 20));
  TCompactProtocolT<TMemoryBuffer> protocol(buffer, static_cast<int32_t>(size), limit);
  try {
    value.read(&protocol);
  } catch (const std::exception& e) {
    throw Error::DataLoss(fmt::format("{} is corrupt: {}", what, e.what()));
  }
  uint8_t* rest = nullptr;
  uint32_t rest_size = 0;
  buffer->getBuffer(&rest, &rest_size);
  return size - rest_size;
}

template void serialize(const format::FileMetaData&, std::string&);
template void serialize(const format::PageHeader&, std::string&);
template size_t deserialize(const uint8_t*, size_t, format::FileMetaData&, const char*);
template size_t deserialize(const uint8_t*, size_t, format::PageHeader&, const char*);

}  // namespace trib::parquet::internal
