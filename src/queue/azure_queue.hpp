// The Azure Storage Queue implementation's knobs that tests need to turn (private to the queue
// module; open_azure_queue() in task_queue.hpp uses the defaults).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "trib/net/azure_storage.hpp"
#include "trib/queue/task_queue.hpp"

namespace trib::queue::azure {

// The blob container holding dedupe-key markers ("<queue>/<sha256 hex of key>").
inline constexpr std::string_view kMarkerContainer = "trib-queue-keys";

struct Tuning {
  // A marker whose enqueuer never recorded its message id (it died between putting the marker
  // and the message) may be taken over by another enqueue once it is this old, by the service's
  // clock (Date minus Last-Modified).
  std::chrono::seconds stale_marker_after{600};
  // Retries and timeouts of the HTTP client.
  net::azure::ClientOptions client;
};

std::unique_ptr<TaskQueue> open_queue(const net::azure::StorageAccount& account,
                                      const std::string& name, QueueOptions options, bool create,
                                      Tuning tuning);

}  // namespace trib::queue::azure
