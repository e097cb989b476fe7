// libFuzzer target for what an LLM endpoint sends us (src/llm/wire.cpp): the bytes are fed, in
// pieces whose sizes the input chooses, to the server-sent-events parser and each event to the
// chunk accumulator; the whole input also goes to the completion parser and the error-body
// reader. Anything must parse or throw trib::Error, never crash or hang; a reply that comes out
// has an assistant role and tool calls with ids and names.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trib/core/error.hpp"
#include "trib/llm/chat.hpp"

namespace {

void check(const trib::llm::ChatReply& r) {
  if (r.message.role != "assistant") __builtin_trap();
  for (const auto& c : r.message.tool_calls) {
    if (c.id.empty() || c.name.empty()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The first byte picks the piece size (1..32), as a network would split the stream.
  const size_t step = size == 0 ? 1 : (data[0] % 32) + 1;
  try {
    trib::llm::SseParser sse;
    trib::llm::StreamAccumulator acc;
    auto on_event = [&](std::string_view event) {
      if (!acc.done()) acc.add(event);
    };
    for (size_t i = 0; i < bytes.size(); i += step) sse.feed(bytes.substr(i, step), on_event);
    sse.finish(on_event);
    check(acc.reply());
  } catch (const trib::Error&) {
  }
  try {
    check(trib::llm::parse_completion(bytes));
  } catch (const trib::Error&) {
  }
  (void)trib::llm::error_message(bytes);
  return 0;
}
