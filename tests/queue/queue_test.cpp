// The embedded queue's Azure Storage Queue semantics, one consumer at a time. Concurrency
// (threads, processes, crashes) is in queue_concurrency_test.cpp. Leases use 1-second timeouts,
// the smallest the API can express, so a few tests sleep just over a second.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/queue/task_queue.hpp"
#include "../core/test_util.hpp"

namespace trib::queue {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr auto kPastOneLease = std::chrono::milliseconds(1100);

template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a trib::Error";
  return Error::Internal("no error");
}

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = open(3); }
  void TearDown() override { queue_.reset(); }  // before tmp_ removes the folder
  std::unique_ptr<TaskQueue> open(int max_attempts, const std::string& name = "tasks") {
    QueueOptions options;
    options.max_attempts = max_attempts;
    return open_embedded_queue(db_, name, options);
  }

  testing::TempDir tmp_;
  const fs::path dir_ = tmp_.path(), db_ = dir_ / "catalog.db";
  std::unique_ptr<TaskQueue> queue_;
};

TEST_F(QueueTest, EmptyQueueReceivesNothing) {
  EXPECT_EQ(queue_->name(), "tasks");
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_EQ(queue_->visible_count(), 0);
  EXPECT_EQ(queue_->poison_count(), 0);
}

TEST_F(QueueTest, DeliversInFifoOrderWithFreshIdsAndReceipts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(queue_->enqueue(fmt::format("m{}", i)));
  EXPECT_EQ(queue_->count(), 5);
  EXPECT_EQ(queue_->visible_count(), 5);
  std::set<std::string> receipts;
  for (int i = 0; i < 5; ++i) {
    auto m = queue_->receive(seconds(30));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->body, fmt::format("m{}", i));
    EXPECT_EQ(m->id, ids[i]);
    EXPECT_EQ(m->id.size(), 32u);  // 128 bits in hex
    EXPECT_EQ(m->pop_receipt.size(), 32u);
    EXPECT_EQ(m->id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(m->dequeue_count, 1);
    EXPECT_GT(m->inserted_at_ns, 0);
    receipts.insert(m->pop_receipt);
  }
  EXPECT_EQ(receipts.size(), 5u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());  // all leased
  EXPECT_EQ(queue_->count(), 5);
  EXPECT_EQ(queue_->visible_count(), 0);
}

TEST_F(QueueTest, RemoveDeletesALeasedMessage) {
  queue_->enqueue("a");
  queue_->enqueue("b");
  auto a = queue_->receive(seconds(30));
  queue_->remove(*a);
  EXPECT_EQ(queue_->count(), 1);
  auto b = queue_->receive(seconds(30));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->body, "b");
  // Removing twice: the message is gone.
  EXPECT_EQ(error_of([&] { queue_->remove(*a); }).category(), ErrorCategory::kConflict);
}

TEST_F(QueueTest, VisibilityTimeoutHidesThenRedeliversWithHigherCount) {
  queue_->enqueue("job");
  auto first = queue_->receive(seconds(1));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->dequeue_count, 1);
  EXPECT_FALSE(queue_->receive(seconds(1)).has_value());  // hidden while leased
  std::this_thread::sleep_for(kPastOneLease);
  EXPECT_EQ(queue_->visible_count(), 1);
  auto second = queue_->receive(seconds(30));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->body, "job");
  EXPECT_EQ(second->dequeue_count, 2);
  EXPECT_NE(second->pop_receipt, first->pop_receipt);

  // The first holder's lease is over: its receipt is stale, and it cannot delete the message
  // that the second holder is working on.
  const Error stale = error_of([&] { queue_->remove(*first); });
  EXPECT_EQ(stale.category(), ErrorCategory::kConflict);
  EXPECT_THAT(stale.what(), HasSubstr("tasks"));
  EXPECT_THAT(stale.what(), HasSubstr(first->id));
  EXPECT_EQ(error_of([&] { queue_->update_visibility(*first, seconds(5)); }).category(),
            ErrorCategory::kConflict);
  EXPECT_EQ(error_of([&] { queue_->release(*first, "x", seconds(0)); }).category(),
            ErrorCategory::kConflict);
  queue_->remove(*second);
  EXPECT_EQ(queue_->count(), 0);
}

TEST_F(QueueTest, UpdateVisibilityExtendsTheLeaseAndRotatesTheReceipt) {
  queue_->enqueue("long job");
  auto m = queue_->receive(seconds(1));
  const Message before = *m;
  queue_->update_visibility(*m, seconds(30));
  EXPECT_NE(m->pop_receipt, before.pop_receipt);
  std::this_thread::sleep_for(kPastOneLease);
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());  // still leased
  EXPECT_EQ(error_of([&] { queue_->remove(before); }).category(), ErrorCategory::kConflict);
  queue_->update_visibility(*m, seconds(0));  // give it back now
  auto again = queue_->receive(seconds(30));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->dequeue_count, 2);
}

TEST_F(QueueTest, DelayedMessagesBecomeVisibleLater) {
  queue_->enqueue("later", seconds(1));
  queue_->enqueue("now");
  EXPECT_EQ(queue_->count(), 2);
  EXPECT_EQ(queue_->visible_count(), 1);
  auto m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "now");  // the older message is not visible yet
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  std::this_thread::sleep_for(kPastOneLease);
  m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "later");
}

TEST_F(QueueTest, ReleaseRecordsTheErrorAndRetriesAfterTheDelay) {
  queue_->enqueue("flaky");
  queue_->enqueue("next");
  auto m = queue_->receive(seconds(30));
  queue_->release(*m, "retryable: vendor timed out", seconds(0));
  // Released with no delay: the oldest visible message again, count 2.
  auto again = queue_->receive(seconds(30));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body, "flaky");
  EXPECT_EQ(again->dequeue_count, 2);
  // After a release the old receipt is dead.
  EXPECT_EQ(error_of([&] { queue_->remove(*m); }).category(), ErrorCategory::kConflict);

  queue_->release(*again, "retryable: again", seconds(30));
  auto next = queue_->receive(seconds(30));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "next");  // flaky waits out its retry delay
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
}

TEST_F(QueueTest, ReleaseOnTheLastAttemptPoisonsAtOnce) {
  queue_ = open(2);
  const std::string id = queue_->enqueue("bad task");
  auto m = queue_->receive(seconds(30));
  queue_->release(*m, "invalid-input: bad field", seconds(0));
  m = queue_->receive(seconds(30));
  ASSERT_EQ(m->dequeue_count, 2);
  queue_->release(*m, "invalid-input: still bad", seconds(0));
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  auto poison = queue_->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].id, id);
  EXPECT_EQ(poison[0].body, "bad task");
  EXPECT_EQ(poison[0].dequeue_count, 2);
  EXPECT_EQ(poison[0].last_error, "invalid-input: still bad");
  EXPECT_EQ(queue_->poison_count(), 1);
}

TEST_F(QueueTest, ExpiredLeasesPastMaxAttemptsGoToPoisonOnReceive) {
  queue_ = open(2);
  queue_->enqueue("crashy");
  queue_->enqueue("fine");
  // Two deliveries whose leases expire (a worker that dies each time).
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto m = queue_->receive(seconds(1));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->body, "crashy");
    EXPECT_EQ(m->dequeue_count, attempt);
    auto other = queue_->receive(seconds(30));  // "fine" is handled meanwhile, first time only
    if (other) queue_->remove(*other);
    std::this_thread::sleep_for(kPastOneLease);
  }
  // Visible again after max_attempts deliveries: moved to poison, never returned.
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  EXPECT_EQ(queue_->count(), 0);
  auto poison = queue_->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].body, "crashy");
  EXPECT_EQ(poison[0].dequeue_count, 2);
  EXPECT_EQ(poison[0].last_error, "lease expired after 2 deliveries");
}

TEST_F(QueueTest, ExpiredLeaseKeepsTheLastReleasedError) {
  queue_ = open(2);
  queue_->enqueue("x");
  auto m = queue_->receive(seconds(30));
  queue_->release(*m, "retryable: first failure", seconds(0));
  m = queue_->receive(seconds(1));  // second delivery; this worker then dies
  std::this_thread::sleep_for(kPastOneLease);
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  auto poison = queue_->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].last_error, "retryable: first failure");
}

TEST_F(QueueTest, BodiesUpTo64KiB) {
  const std::string max(kMaxBodyBytes, 'x');
  queue_->enqueue(max);
  EXPECT_EQ(queue_->receive(seconds(30))->body, max);
  const Error e = error_of([&] { queue_->enqueue(max + "y"); });
  EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
  EXPECT_THAT(e.what(), HasSubstr(std::to_string(kMaxBodyBytes + 1)));
  EXPECT_THAT(e.what(), HasSubstr("tasks"));
  EXPECT_EQ(queue_->count(), 1);
  // Text is stored as given, including bytes that are not ASCII and embedded newlines.
  const std::string json = "{\"symbol\":\"BRK.B\",\"note\":\"caf\xc3\xa9\\n\"}\n";
  queue_->enqueue(json);
  EXPECT_EQ(queue_->receive(seconds(30))->body, json);
}

TEST_F(QueueTest, QueuesInOneFileAreIndependent) {
  auto other = open(3, "other-queue");
  queue_->enqueue("for tasks");
  other->enqueue("for other");
  EXPECT_EQ(queue_->count(), 1);
  EXPECT_EQ(other->count(), 1);
  EXPECT_EQ(other->receive(seconds(30))->body, "for other");
  EXPECT_EQ(queue_->receive(seconds(30))->body, "for tasks");
  // A message of one queue cannot be removed through another.
  other->enqueue("x");
  auto m = other->receive(seconds(30));
  EXPECT_EQ(error_of([&] { queue_->remove(*m); }).category(), ErrorCategory::kConflict);
  other->clear();
  EXPECT_EQ(other->count(), 0);
  EXPECT_EQ(queue_->count(), 1);
}

TEST_F(QueueTest, ClearDeletesMessagesAndPoison) {
  queue_ = open(1);
  queue_->enqueue("a");
  auto m = queue_->receive(seconds(30));
  queue_->release(*m, "boom", seconds(0));
  queue_->enqueue("b");
  EXPECT_EQ(queue_->poison_count(), 1);
  queue_->clear();
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_EQ(queue_->poison_count(), 0);
}

TEST_F(QueueTest, RejectsBadNamesOptionsAndDurations) {
  for (const char* name : {"", "ab", "Tasks", "tasks_1", "-tasks", "tasks-", "a--b"}) {
    EXPECT_EQ(error_of([&] { open(3, name); }).category(), ErrorCategory::kInvalidInput) << name;
  }
  EXPECT_EQ(error_of([&] { open(0); }).category(), ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->enqueue("x", seconds(-1)); }).category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->receive(seconds(-1)); }).category(),
            ErrorCategory::kInvalidInput);
}

TEST_F(QueueTest, MessagesSurviveReopening) {
  queue_->enqueue("persisted");
  queue_.reset();
  queue_ = open(3);
  auto m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "persisted");
}

}  // namespace
}  // namespace trib::queue
