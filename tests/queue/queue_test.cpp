// TaskQueue's Azure Storage Queue semantics, one consumer at a time, on every implementation
// (queue_fixture.hpp: Backends/QueueTest.<Test>/embedded, .../postgres and .../azure). Concurrency
// (threads, processes, crashes) is in queue_concurrency_test.cpp. Leases use 1-second
// timeouts, the smallest the API can express, so a few tests sleep just over a second.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "trib/core/error.hpp"
#include "trib/core/time.hpp"
#include "trib/queue/task_queue.hpp"
#include "queue_fixture.hpp"

namespace trib::queue {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr auto kPastOneLease = std::chrono::milliseconds(1100);

TEST_P(QueueTest, EmptyQueueReceivesNothing) {
  EXPECT_EQ(queue_->name(), queue_name("tasks"));
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_EQ(queue_->visible_count(), 0);
  EXPECT_EQ(queue_->poison_count(), 0);
}

TEST_P(QueueTest, DeliversInFifoOrderWithFreshIdsAndReceipts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(queue_->enqueue(fmt::format("m{}", i)));
  EXPECT_EQ(queue_->count(), 5);
  EXPECT_EQ(queue_->visible_count(), 5);
  std::set<std::string> receipts, bodies;
  for (int i = 0; i < 5; ++i) {
    auto m = queue_->receive(seconds(30));
    ASSERT_TRUE(m.has_value());
    if (fifo()) {
      EXPECT_EQ(m->body, fmt::format("m{}", i));
      EXPECT_EQ(m->id, ids[i]);
    } else {
      // Azure promises no order: each body still comes once, with the id its enqueue returned.
      ASSERT_EQ(m->body.size(), 2u);
      EXPECT_EQ(m->id, ids.at(m->body[1] - '0'));
    }
    bodies.insert(m->body);
    if (own_ids()) {
      EXPECT_EQ(m->id.size(), 32u);  // 128 bits in hex
      EXPECT_EQ(m->pop_receipt.size(), 32u);
      EXPECT_EQ(m->id.find_first_not_of("0123456789abcdef"), std::string::npos);
    } else {
      EXPECT_FALSE(m->id.empty());  // Azure's GUIDs and receipts
      EXPECT_FALSE(m->pop_receipt.empty());
    }
    EXPECT_EQ(m->dequeue_count, 1);
    EXPECT_GT(m->inserted_at_ns, 0);
    receipts.insert(m->pop_receipt);
  }
  EXPECT_EQ(bodies.size(), 5u);
  EXPECT_EQ(receipts.size(), 5u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());  // all leased
  EXPECT_EQ(queue_->count(), 5);
  EXPECT_EQ(queue_->visible_count(), 0);
}

TEST_P(QueueTest, RemoveDeletesALeasedMessage) {
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

TEST_P(QueueTest, VisibilityTimeoutHidesThenRedeliversWithHigherCount) {
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

TEST_P(QueueTest, UpdateVisibilityExtendsTheLeaseAndRotatesTheReceipt) {
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

TEST_P(QueueTest, DelayedMessagesBecomeVisibleLater) {
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

TEST_P(QueueTest, ReleaseRecordsTheErrorAndRetriesAfterTheDelay) {
  queue_->enqueue("flaky");
  queue_->enqueue("next");
  auto m = queue_->receive(seconds(30));
  queue_->release(*m, "retryable: vendor timed out", seconds(0));
  // Released with no delay: the oldest visible message again, count 2. (Azure promises no
  // order; Azurite delivers "next" first, as it became visible earlier: set it aside.)
  auto again = queue_->receive(seconds(30));
  std::optional<Message> next_early;
  if (!fifo() && again && again->body == "next") {
    next_early = again;
    again = queue_->receive(seconds(30));
  }
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body, "flaky");
  EXPECT_EQ(again->dequeue_count, 2);
  // After a release the old receipt is dead.
  EXPECT_EQ(error_of([&] { queue_->remove(*m); }).category(), ErrorCategory::kConflict);

  queue_->release(*again, "retryable: again", seconds(30));
  auto next = next_early ? next_early : queue_->receive(seconds(30));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "next");  // flaky waits out its retry delay
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
}

TEST_P(QueueTest, ReleaseOnTheLastAttemptPoisonsAtOnce) {
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

TEST_P(QueueTest, DeferDoesNotCountTheDeliveryAndNeverPoisons) {
  // A task refused by a used-up vendor budget was not attempted: deferring it any number of
  // times leaves its attempts intact, even with max_attempts = 2.
  queue_ = open(2);
  ASSERT_TRUE(queue_->enqueue_unique("fetch AAPL", "fetch|AAPL").has_value());
  for (int i = 0; i < 4; ++i) {
    auto m = queue_->receive(seconds(30));
    ASSERT_TRUE(m.has_value()) << "deferral " << i;
    EXPECT_EQ(m->dequeue_count, 1) << "deferral " << i;
    EXPECT_EQ(m->body, "fetch AAPL");
    queue_->defer(*m, "rate-limited: polygon's budget is used up", seconds(0));
    // The receipt is dead after a deferral.
    EXPECT_EQ(error_of([&] { queue_->remove(*m); }).category(), ErrorCategory::kConflict);
  }
  EXPECT_EQ(queue_->poison_count(), 0);
  // Still holding its dedupe key: planning it again adds nothing.
  EXPECT_FALSE(queue_->enqueue_unique("fetch AAPL", "fetch|AAPL").has_value());
  // A real failure after the deferrals still has both attempts.
  auto m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  queue_->release(*m, "retryable: timeout", seconds(0));
  m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->dequeue_count, 2);
  // Deferred for a while: not visible until then, and still counted as queued.
  queue_->defer(*m, "rate-limited: daily cap", seconds(30));
  EXPECT_FALSE(queue_->receive(seconds(30)).has_value());
  EXPECT_EQ(queue_->count(), 1);
  EXPECT_EQ(queue_->poison_count(), 0);
}

TEST_P(QueueTest, ExpiredLeasesPastMaxAttemptsGoToPoisonOnReceive) {
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

TEST_P(QueueTest, ExpiredLeaseKeepsTheLastReleasedError) {
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

TEST_P(QueueTest, BodiesUpTo32KiB) {
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
  // Even text that looks like the Azure queue's envelope (azure_envelope.hpp), at the limit.
  std::string lookalike = "trib-envelope/1 {\"last_error\":\"x\"}\nbody";
  lookalike.resize(kMaxBodyBytes, 'z');
  queue_->enqueue(lookalike);
  EXPECT_EQ(queue_->receive(seconds(30))->body, lookalike);
}

TEST_P(QueueTest, QueuesInOneDatabaseAreIndependent) {
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

TEST_P(QueueTest, ClearDeletesMessagesAndPoison) {
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

TEST_P(QueueTest, RejectsBadNamesOptionsAndDurations) {
  for (const std::string& name : {std::string(), std::string("ab"), std::string("Tasks"),
                                  std::string("tasks_1"), std::string("-tasks"),
                                  std::string("tasks-"), std::string("a--b"),
                                  std::string(57, 'a')}) {  // "<name>-poison" would be 64
    const Error e = error_of([&] { open(3, name); });
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput) << name;
    EXPECT_THAT(e.what(), HasSubstr("lowercase letters, digits and single hyphens")) << name;
  }
  EXPECT_EQ(error_of([&] { open(0); }).category(), ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->enqueue("x", seconds(-1)); }).category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->receive(seconds(-1)); }).category(),
            ErrorCategory::kInvalidInput);
}

TEST_P(QueueTest, MessagesSurviveReopening) {
  queue_->enqueue("persisted");
  queue_.reset();
  queue_ = open(3);
  auto m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->body, "persisted");
}

// ---- dedupe keys, dead letters, listing, redrive, purge ----------------------------------------

TEST_P(QueueTest, EnqueueUniqueAddsOncePerKeyWhileQueued) {
  const auto first = queue_->enqueue_unique("{\"symbol\":\"AAPL\",\"year\":2020}", "AAPL/2020");
  ASSERT_TRUE(first.has_value());
  if (own_ids()) {
    EXPECT_EQ(first->size(), 32u);
  }
  // Re-planning the same work adds nothing, whatever the body says now.
  EXPECT_EQ(queue_->enqueue_unique("{\"symbol\":\"AAPL\",\"year\":2020,\"v\":2}", "AAPL/2020"),
            std::nullopt);
  const auto other = queue_->enqueue_unique("{\"symbol\":\"MSFT\"}", "MSFT/2020");
  ASSERT_TRUE(other.has_value());
  queue_->enqueue("no key");  // plain messages never collide
  queue_->enqueue("no key");
  EXPECT_EQ(queue_->count(), 4);

  // Leased still counts as queued.
  auto m = queue_->receive(seconds(30));
  ASSERT_EQ(m->id, *first);
  EXPECT_EQ(m->dedupe_key, "AAPL/2020");  // received with its key
  EXPECT_EQ(queue_->enqueue_unique("again", "AAPL/2020"), std::nullopt);
  // Removed: the key is free again, and the new message is a new one.
  queue_->remove(*m);
  const auto again = queue_->enqueue_unique("again", "AAPL/2020");
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*again, *first);
  // Keys belong to one queue.
  auto elsewhere = open(3, "other-queue");
  EXPECT_TRUE(elsewhere->enqueue_unique("x", "AAPL/2020").has_value());
  // A delayed unique message holds its key while it waits.
  EXPECT_TRUE(queue_->enqueue_unique("later", "later-key", seconds(60)).has_value());
  EXPECT_EQ(queue_->enqueue_unique("later", "later-key"), std::nullopt);
  EXPECT_EQ(queue_->count(), 5);
  EXPECT_EQ(queue_->visible_count(), 4);
}

TEST_P(QueueTest, EnqueueUniqueChecksItsArguments) {
  EXPECT_EQ(error_of([&] { queue_->enqueue_unique("x", ""); }).category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->enqueue_unique("x", std::string(1025, 'k')); }).category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->enqueue_unique(std::string(kMaxBodyBytes + 1, 'x'), "k"); })
                .category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([&] { queue_->enqueue_unique("x", "k", seconds(-1)); }).category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_TRUE(queue_->enqueue_unique("x", "k").has_value());  // the key was never taken
}

TEST_P(QueueTest, BodiesMustBeUtf8TextWithoutNul) {
  for (const std::string& bad : {std::string("a\0b", 3), std::string("\xff"),
                                 std::string("caf\xc3"), std::string("\xed\xa0\x80")}) {
    const Error e = error_of([&] { queue_->enqueue(bad); });
    EXPECT_EQ(e.category(), ErrorCategory::kInvalidInput);
    EXPECT_THAT(e.what(), HasSubstr("UTF-8"));
  }
  EXPECT_EQ(queue_->count(), 0);
  const std::string emoji = "\xf0\x9f\x93\x88 \xe2\x82\xac";  // 4- and 3-byte sequences
  queue_->enqueue(emoji);
  EXPECT_EQ(queue_->receive(seconds(30))->body, emoji);
}

TEST_P(QueueTest, DeadLetterMovesALeasedMessageToPoisonAtOnce) {
  const std::string id = queue_->enqueue("{\"symbol\":\"NOPE\"}");
  queue_->enqueue("next");
  auto m = queue_->receive(seconds(30));
  ASSERT_EQ(m->id, id);
  queue_->dead_letter(*m, "not-found: unknown symbol NOPE");
  EXPECT_EQ(queue_->count(), 1);
  auto poison = queue_->list_poison();
  ASSERT_EQ(poison.size(), 1u);
  EXPECT_EQ(poison[0].id, id);
  EXPECT_EQ(poison[0].body, "{\"symbol\":\"NOPE\"}");
  EXPECT_EQ(poison[0].dequeue_count, 1);  // on its first attempt: no retries spent
  EXPECT_EQ(poison[0].last_error, "not-found: unknown symbol NOPE");
  // Its receipt is dead now, like any removed message's.
  const Error gone = error_of([&] { queue_->remove(*m); });
  EXPECT_EQ(gone.category(), ErrorCategory::kConflict);
  EXPECT_THAT(gone.what(), HasSubstr(id));
  EXPECT_EQ(error_of([&] { queue_->dead_letter(*m, "twice"); }).category(),
            ErrorCategory::kConflict);
  EXPECT_EQ(queue_->receive(seconds(30))->body, "next");
}

TEST_P(QueueTest, DeadLetterWithAStaleReceiptChangesNothing) {
  queue_->enqueue("job");
  auto first = queue_->receive(seconds(1));
  std::this_thread::sleep_for(kPastOneLease);
  auto second = queue_->receive(seconds(30));  // someone else holds it now
  ASSERT_TRUE(second.has_value());
  const Error stale = error_of([&] { queue_->dead_letter(*first, "late"); });
  EXPECT_EQ(stale.category(), ErrorCategory::kConflict);
  EXPECT_THAT(stale.what(), HasSubstr("stale"));
  EXPECT_EQ(queue_->poison_count(), 0);
  EXPECT_EQ(queue_->count(), 1);
  queue_->remove(*second);
}

TEST_P(QueueTest, ListShowsMessagesInDeliveryOrderWithoutTouchingThem) {
  const int64_t before_ns = now_ts_ns() - 5 * kNanosPerSecond;  // room for the server's clock
  const std::string a = queue_->enqueue("a");
  const std::string b = *queue_->enqueue_unique("b", "key-b");
  const std::string c = queue_->enqueue("c", seconds(60));
  auto leased = queue_->receive(seconds(60));  // a
  ASSERT_EQ(leased->id, a);
  auto failed = queue_->receive(seconds(60));  // b
  queue_->release(*failed, "retryable: vendor 503", seconds(0));

  auto listed = queue_->list();
  if (lists_everything()) {
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[0].id, a);
    EXPECT_EQ(listed[1].id, b);
    EXPECT_EQ(listed[2].id, c);
    EXPECT_EQ(listed[0].body, "a");
    EXPECT_EQ(listed[0].dequeue_count, 1);
    EXPECT_EQ(listed[2].dequeue_count, 0);
    EXPECT_EQ(listed[0].last_error, "");
    EXPECT_EQ(listed[0].dedupe_key, "");
    // Leased and delayed ones are visible about a minute from now.
    EXPECT_GT(listed[0].visible_at_ns - listed[0].inserted_at_ns, 50 * kNanosPerSecond);
    EXPECT_GT(listed[2].visible_at_ns - listed[2].inserted_at_ns, 50 * kNanosPerSecond);
  } else {
    // Azure peeks: only the visible message (b, released) shows; leased a and delayed c cannot.
    ASSERT_EQ(listed.size(), 1u);
  }
  const QueuedMessage& listed_b = listed[lists_everything() ? 1 : 0];
  EXPECT_EQ(listed_b.id, b);
  EXPECT_EQ(listed_b.body, "b");
  EXPECT_EQ(listed_b.dequeue_count, 1);
  EXPECT_EQ(listed_b.last_error, "retryable: vendor 503");
  EXPECT_EQ(listed_b.dedupe_key, "key-b");
  for (const auto& m : listed) EXPECT_GT(m.inserted_at_ns, before_ns) << m.id;
  // The released one is visible now.
  EXPECT_LT(listed_b.visible_at_ns - listed_b.inserted_at_ns, 50 * kNanosPerSecond);

  if (lists_everything()) {
    ASSERT_EQ(queue_->list(2).size(), 2u);
    EXPECT_EQ(queue_->list(2)[1].id, b);
  }
  EXPECT_EQ(queue_->list(1).size(), 1u);
  EXPECT_TRUE(queue_->list(0).empty());
  EXPECT_TRUE(open(3, "other-queue")->list().empty());
  // Looking changed nothing: b is still the visible one, delivered for the second time.
  auto next = queue_->receive(seconds(30));
  ASSERT_EQ(next->id, b);
  EXPECT_EQ(next->dequeue_count, 2);
  queue_->remove(*leased);  // a's lease and receipt are intact
}

TEST_P(QueueTest, RedriveMovesPoisonBackWithAFreshCount) {
  queue_ = open(1);
  const std::string x = queue_->enqueue("x");
  const std::string y = queue_->enqueue("y");
  for (int i = 0; i < 2; ++i) {
    auto m = queue_->receive(seconds(30));
    queue_->release(*m, "invalid-input: bad " + m->body, seconds(0));  // last attempt: poison
  }
  EXPECT_EQ(queue_->count(), 0);
  EXPECT_EQ(queue_->poison_count(), 2);
  EXPECT_EQ(queue_->redrive({"no-such-id"}), 0);

  EXPECT_EQ(queue_->redrive({y}), 1);
  EXPECT_EQ(queue_->poison_count(), 1);
  EXPECT_EQ(queue_->list_poison()[0].id, x);
  auto listed = queue_->list();
  ASSERT_EQ(listed.size(), 1u);
  // The same message, not a copy (Azure: a new message with a new id, the same body).
  if (own_ids()) {
    EXPECT_EQ(listed[0].id, y);
  }
  EXPECT_EQ(listed[0].body, "y");
  EXPECT_EQ(listed[0].dequeue_count, 0);
  EXPECT_EQ(listed[0].last_error, "invalid-input: bad y");  // kept for whoever looks next
  auto m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  if (own_ids()) {
    EXPECT_EQ(m->id, y);
  }
  EXPECT_EQ(m->id, listed[0].id);
  EXPECT_EQ(m->body, "y");
  EXPECT_EQ(m->dequeue_count, 1);  // a full set of attempts again
  queue_->remove(*m);

  EXPECT_EQ(queue_->redrive(), 1);  // all that is left
  EXPECT_EQ(queue_->poison_count(), 0);
  m = queue_->receive(seconds(30));
  ASSERT_TRUE(m.has_value());
  if (own_ids()) {
    EXPECT_EQ(m->id, x);
  }
  EXPECT_EQ(m->body, "x");
  EXPECT_EQ(queue_->redrive(), 0);
}

TEST_P(QueueTest, RedriveGoesToTheBackOfTheQueue) {
  queue_ = open(1);
  queue_->enqueue("old");
  auto m = queue_->receive(seconds(30));
  queue_->dead_letter(*m, "permanent");
  queue_->enqueue("newer");
  EXPECT_EQ(queue_->redrive(), 1);
  auto first = queue_->receive(seconds(30));
  auto second = queue_->receive(seconds(30));
  ASSERT_TRUE(first.has_value() && second.has_value());
  if (fifo()) {
    EXPECT_EQ(first->body, "newer");
    EXPECT_EQ(second->body, "old");
  } else {  // Azure promises no order: both are back, that is all
    EXPECT_EQ(std::set<std::string>({first->body, second->body}),
              std::set<std::string>({"newer", "old"}));
  }
}

TEST_P(QueueTest, RedriveLeavesPoisonWhoseDedupeKeyIsQueuedAgain) {
  const std::string first = *queue_->enqueue_unique("v1", "AAPL/2020");
  auto m = queue_->receive(seconds(30));
  queue_->dead_letter(*m, "permanent: bad request");
  // Poisoned: the key is free, and re-planning queues the work again.
  const std::string second = *queue_->enqueue_unique("v2", "AAPL/2020");
  // Redriving the poisoned copy would queue the same work twice: it stays in poison.
  EXPECT_EQ(queue_->redrive(), 0);
  EXPECT_EQ(queue_->redrive({first}), 0);
  EXPECT_EQ(queue_->poison_count(), 1);
  EXPECT_EQ(queue_->count(), 1);
  // Once the live one is done, the poisoned one can come back, with its key.
  auto live = queue_->receive(seconds(30));
  ASSERT_EQ(live->id, second);
  queue_->remove(*live);
  EXPECT_EQ(queue_->redrive(), 1);
  EXPECT_EQ(queue_->enqueue_unique("v3", "AAPL/2020"), std::nullopt);
  EXPECT_EQ(queue_->list()[0].dedupe_key, "AAPL/2020");
  EXPECT_EQ(queue_->receive(seconds(30))->body, "v1");
}

TEST_P(QueueTest, PurgePoisonDeletesOnlyThisQueuesPoison) {
  queue_ = open(1);
  auto other = open(1, "other-queue");
  for (TaskQueue* q : {queue_.get(), queue_.get(), other.get()}) {
    q->enqueue("doomed");
    auto m = q->receive(seconds(30));
    q->dead_letter(*m, "permanent");
  }
  queue_->enqueue("alive");
  EXPECT_EQ(queue_->poison_count(), 2);
  EXPECT_EQ(queue_->purge_poison(), 2);
  EXPECT_EQ(queue_->poison_count(), 0);
  EXPECT_EQ(queue_->purge_poison(), 0);
  EXPECT_EQ(other->poison_count(), 1);
  EXPECT_EQ(queue_->count(), 1);  // messages are not poison
}

TEST_P(QueueTest, ErrorsNameTheQueueAndTheMessage) {
  queue_->enqueue("x");
  auto m = queue_->receive(seconds(30));
  queue_->remove(*m);
  for (const Error& e : {error_of([&] { queue_->remove(*m); }),
                         error_of([&] { queue_->update_visibility(*m, seconds(1)); }),
                         error_of([&] { queue_->release(*m, "e", seconds(0)); }),
                         error_of([&] { queue_->dead_letter(*m, "e"); })}) {
    EXPECT_EQ(e.category(), ErrorCategory::kConflict);
    EXPECT_THAT(e.what(), ::testing::AllOf(HasSubstr("queue '" + queue_->name() + "'"),
                                           HasSubstr(m->id), HasSubstr("gone")));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kPostgres,
                                           Backend::kAzure),
                         backend_name);

// ---- one backend only --------------------------------------------------------------------------

TEST(PostgresQueueTest, UnreachableServerIsRetryableAndNamesNoPassword) {
  const Error e = error_of([] {
    open_postgres_queue("postgresql://trib:pw-never-shown@127.0.0.1:1/trib", "tasks");
  });
  EXPECT_EQ(e.category(), ErrorCategory::kRetryable);
  EXPECT_THAT(e.what(), ::testing::AllOf(HasSubstr("127.0.0.1:1"),
                                         ::testing::Not(HasSubstr("pw-never-shown"))));
  EXPECT_EQ(error_of([] { open_postgres_queue("postgresql://x@h/db?nonsense=1", "tasks"); })
                .category(),
            ErrorCategory::kInvalidInput);
  EXPECT_EQ(error_of([] { open_postgres_queue("postgresql://127.0.0.1:1/x", "Bad_Name"); })
                .category(),
            ErrorCategory::kInvalidInput);  // checked before connecting
}

// A workspace written before dedupe keys existed (queue schema version 1, frozen here as it
// shipped) is upgraded in place: its messages and poison survive and get the new abilities.
TEST(EmbeddedQueueUpgradeTest, VersionOneFileGetsDedupeKeysAndKeepsItsMessages) {
  testing::TempDir tmp;
  const fs::path path = tmp.path() / "catalog.db";
  {
    db::SqliteDb db(path);
    const db::Migration v1[] = {{1, "queue_messages, queue_poison", R"sql(
CREATE TABLE queue_messages (
  seq            INTEGER PRIMARY KEY,
  queue          TEXT NOT NULL,
  id             TEXT NOT NULL UNIQUE,
  body           TEXT NOT NULL,
  dequeue_count  INTEGER NOT NULL DEFAULT 0,
  visible_at_ns  INTEGER NOT NULL,
  pop_receipt    TEXT NOT NULL DEFAULT '',
  inserted_at_ns INTEGER NOT NULL,
  last_error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue, seq);
CREATE INDEX queue_messages_by_visibility ON queue_messages (queue, visible_at_ns);
CREATE TABLE queue_poison (
  queue         TEXT NOT NULL,
  id            TEXT NOT NULL,
  body          TEXT NOT NULL,
  dequeue_count INTEGER NOT NULL,
  last_error    TEXT NOT NULL,
  moved_at_ns   INTEGER NOT NULL,
  PRIMARY KEY (queue, id)
);
)sql"}};
    ASSERT_EQ(db.migrate("queue", v1), 1);
    db.exec(
        "INSERT INTO queue_messages (queue, id, body, visible_at_ns, inserted_at_ns) "
        "VALUES ('tasks', 'old-message', 'queued by v1', 0, 1);"
        "INSERT INTO queue_poison VALUES ('tasks', 'old-poison', 'poisoned by v1', 5, 'boom', 2)");
  }
  auto q = open_embedded_queue(path, "tasks");
  EXPECT_EQ(db::SqliteDb(path).schema_version("queue"), 2);
  EXPECT_EQ(q->count(), 1);
  EXPECT_TRUE(q->enqueue_unique("new", "k").has_value());
  EXPECT_EQ(q->enqueue_unique("new", "k"), std::nullopt);
  EXPECT_EQ(q->redrive(), 1);  // a v1 poison row has no key and no insertion time: still fine
  auto listed = q->list();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].id, "old-message");
  EXPECT_EQ(listed[2].id, "old-poison");
  EXPECT_EQ(listed[2].inserted_at_ns, 2);  // the time it was poisoned stands in
  auto m = q->receive(seconds(30));
  EXPECT_EQ(m->body, "queued by v1");
}

}  // namespace
}  // namespace trib::queue
