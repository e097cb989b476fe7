// Corporate actions between the sources and the readers: recording what a payload or an imported
// file reported (invalid ones quarantined with the reason), choosing one version of each action
// when sources disagree (a declared precedence; the disagreement is a finding), and importing
// action files through the raw zone.
#pragma once

#include <string>
#include <vector>

#include "trib/catalog/catalog.hpp"
#include "trib/core/corporate_action.hpp"
#include "trib/lake/object_store.hpp"

namespace trib::etl {

// Sources in order of preference ([prices] action_precedence for corporate actions, where
// sources not named come after by name; bar_precedence for bars, where they rank equal).
struct SourcePrecedence {
  std::vector<std::string> sources;
  // From "user,lean,polygon".
  static SourcePrecedence parse(std::string_view comma_separated);
  int rank(const std::string& source) const;  // position in `sources`, or sources.size()
};
using ActionPrecedence = SourcePrecedence;

// Sources that disagree about one action: the same kind within kActionMatchDays (dividends) or
// kSplitMatchDays (splits, symbol changes, delistings: rare, so a wider net) of each other,
// with different values (a split ratio off by more than 1e-6 relative, a dividend by more than
// half a cent and 0.1%), different dates, or a different number of actions.
struct ActionConflict {
  Symbol symbol;
  CorporateAction::Kind kind = CorporateAction::Kind::kSplit;
  Date ex_date;                              // the chosen version's (or the first one's)
  std::vector<catalog::ActionRecord> versions;  // every source's, by precedence
  std::string chosen_source;
  std::string reason;  // one line: "split ratio 7 (lean) vs 4 (yahoo)", "ex-date ... vs ..."
};

inline constexpr int kActionMatchDays = 5;
inline constexpr int kSplitMatchDays = 31;

struct ResolvedActions {
  std::vector<CorporateAction> actions;  // ascending ex_date: what readers apply
  std::vector<catalog::ActionRecord> chosen;  // the versions they come from, in the same order
  std::vector<ActionConflict> conflicts;
};

// One version of each action from the known versions (catalog::list_actions, one symbol or
// several): same-kind actions of different sources within kActionMatchDays (kSplitMatchDays
// for all but dividends) are one action; the
// most preferred source's version is used and any disagreement is a conflict.
ResolvedActions resolve_actions(const std::vector<catalog::ActionRecord>& known,
                                const ActionPrecedence& precedence);

// Why a reported action cannot be used ("" when it can): the rules catalog::record_actions
// enforces, checked first so that a vendor's bad row is quarantined instead of failing the ETL.
std::string action_problem(const CorporateAction& action);

struct RecordedActions {
  int64_t added = 0;      // new versions in the catalog
  int64_t rejected = 0;   // quarantined (written to `quarantine/actions/...` with the reason)
};

// Records what a payload or file reported as `source`, learned at `knowledge_ts_ns`, with
// `origin` as lineage; actions without a symbol get `default_symbol`. Invalid actions are
// written to quarantine/actions/source=<source>/raw=<tag>.json with their reasons and counted.
RecordedActions record_reported_actions(lake::ObjectStore& store, catalog::Catalog& catalog,
                                        std::vector<catalog::ActionRecord> reported,
                                        const Symbol& default_symbol);

}  // namespace trib::etl
