// Reading curated economic series (dataset "rates", lake/rates_file.hpp): the catalog's manifest
// says which yearly partitions exist; only those overlapping [from, to] are opened.
#pragma once

#include <optional>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/symbol.hpp"
#include "trib/core/time.hpp"
#include "trib/lake/object_store.hpp"
#include "trib/lake/rates_file.hpp"

namespace trib::etl {

// The dataset name and the timeframe its partition rows carry in the catalog.
inline constexpr const char* kRatesDataset = "rates";
inline constexpr const char* kRatesTimeframe = "1d";

// Observations of `series` dated in [from, to] (inclusive, either open), ascending by date.
// Throws Error::NotFound when the series has no curated partitions.
std::vector<lake::CuratedObservation> read_rates(lake::ObjectStore& store, catalog::Catalog& catalog,
                                                 const Symbol& series,
                                                 std::optional<Date> from = std::nullopt,
                                                 std::optional<Date> to = std::nullopt);

// The committed observations of one rates partition dated in [from, to] (verified like bars
// partitions).
std::vector<lake::CuratedObservation> read_committed_rates(lake::ObjectStore& store,
                                                           const catalog::PartitionRecord& record,
                                                           std::optional<Date> from = std::nullopt,
                                                           std::optional<Date> to = std::nullopt);

}  // namespace trib::etl
