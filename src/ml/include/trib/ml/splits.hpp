// Walk-forward splits with purging and an embargo (Lopez de Prado, Advances in Financial
// Machine Learning, ch. 7), over the dataset's session dates:
//
//   |-------- train --------|p|-- valid --|p|-- test --|
//
// Split k's test window is the k-th block of `test` sessions after the first train + valid
// ones; the validation window is the `valid` sessions before it, and training takes everything
// before that (expanding) or the last `train` sessions of it (rolling). Purge: a training row
// whose label window [t, label_end] reaches the validation window is dropped, and so is a
// training or validation row whose label window reaches the test window; the embargo drops
// `embargo` more sessions' rows before each later block (serial correlation beyond the label).
// So no row a model learns from, or is tuned on, has a label that ends on or after a date it
// is tested on. The last test window may be shorter. Rows without a label are in no split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trib/ml/dataset.hpp"

namespace trib::ml {

enum class WindowKind { kExpanding, kRolling };
WindowKind parse_window_kind(const std::string& text);
std::string to_string(WindowKind kind);

struct SplitConfig {
  WindowKind window = WindowKind::kExpanding;
  int train = 504;   // sessions: rolling, the training window; expanding, the first one
  int valid = 126;   // sessions of the validation window (early stopping, regularisation)
  int test = 63;     // sessions per test window; splits step by this
  int embargo = 0;   // sessions dropped before each later block, beyond the purge
};

struct Split {
  int index = 0;
  // Session dates (days since the epoch), inclusive.
  int32_t train_from = 0, train_to = 0, valid_from = 0, valid_to = 0, test_from = 0, test_to = 0;
  std::vector<size_t> train_rows, valid_rows, test_rows;  // dataset rows, ascending
  size_t purged = 0;     // rows dropped because their label window reached a later block
  size_t embargoed = 0;  // rows dropped by the embargo
};

// Error::InvalidInput when the sizes are not positive (embargo: >= 0) or the dataset has too few
// dates for one split (saying how many it has and needs).
std::vector<Split> walk_forward_splits(const Dataset& data, const SplitConfig& config);

// The final model's window, for predicting past the dataset: validation on the last `valid`
// sessions with a label, training before it (purged and embargoed the same way); no test rows.
Split final_split(const Dataset& data, const SplitConfig& config);

}  // namespace trib::ml
