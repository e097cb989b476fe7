// trib ml: train walk-forward, list, show and compare registered models, write and read
// predictions. The work is in src/ml; this file parses and prints.
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "cli.hpp"
#include "trib/ml/predict.hpp"
#include "trib/ml/training.hpp"

namespace trib::cli {
namespace {

using nlohmann::json;

// A metric as text ("n/a" when undefined); "pct" formats a share as a percentage.
std::string num(const json& v, const char* format = "{:.4f}") {
  if (!v.is_number()) return "n/a";
  if (std::string_view(format) == "pct") return fmt::format("{:.1f}%", 100 * v.get<double>());
  return fmt::format(fmt::runtime(format), v.get<double>());
}


void print_summary(const json& test) {
  fmt::print("  test dates {}, rows {}\n", test.value("dates", 0), test.value("rows", 0));
  fmt::print("  IC {} (std {}), ICIR {}; rank IC {} (std {}), rank ICIR {}; rank IC > 0 on {} of dates\n",
             num(test["ic_mean"]), num(test["ic_std"]), num(test["icir"]), num(test["rank_ic_mean"]),
             num(test["rank_ic_std"]), num(test["rank_icir"]), num(test["ic_positive_share"], "pct"));
  fmt::print("  hit rate {}; top-minus-bottom quantile {} per date (IR {}), turnover {}; monotonicity {}\n",
             num(test["hit_rate"], "pct"), num(test["long_short_mean"], "{:.5f}"), num(test["long_short_ir"]),
             num(test["turnover_mean"], "pct"), num(test["monotonicity"], "{:.3f}"));
  if (test.contains("bucket_means") && test["bucket_means"].is_array()) {
    std::string buckets;
    for (const auto& b : test["bucket_means"]) buckets += (buckets.empty() ? "" : " ") + num(b, "{:+.5f}");
    fmt::print("  mean label by prediction bucket (low .. high): {}\n", buckets);
  }
}

}  // namespace

json model_json(const catalog::ModelRecord& m) {
  return {{"id", m.id},
          {"name", m.name},
          {"kind", m.kind},
          {"feature_set", m.feature_set},
          {"label", m.label},
          {"dataset_hash", m.dataset_hash},
          {"from", Date(m.from_day).to_string()},
          {"to", Date(m.to_day).to_string()},
          {"splits", m.splits},
          {"code_version", m.code_version},
          {"artefacts", m.artefacts},
          {"created_at", format_ts_ns(m.created_at_ns)},
          {"metrics", json::parse(m.metrics_json, nullptr, false)},
          {"importance", json::parse(m.importance_json, nullptr, false)}};
}


json train_json(Workspace& ws, const std::string& workspace_dir, const ml::ModelConfig& config,
                const std::string& export_dir, const std::function<void(const std::string&)>& progress) {
  ml::TrainOptions options;
  options.workspace = workspace_dir;
  if (!export_dir.empty()) options.export_dir = export_dir;
  if (progress) options.progress = progress;
  const ml::TrainResult r = ml::train_model(*ws.store, *ws.catalog, config, options);
  json out = model_json(r.record);
  out["already_registered"] = r.already_registered;
  json split_seconds = json::array();
  for (const auto& s : r.splits) split_seconds.push_back({{"prepare", s.prepare_seconds}, {"fit", s.fit_seconds}});
  out["seconds"] = {{"dataset", r.dataset_seconds}, {"splits", split_seconds}, {"final", r.final_seconds}};
  json top = json::array();
  for (size_t i = 0; i < std::min<size_t>(10, r.importance.size()); ++i) {
    top.push_back({r.importance[i].first, r.importance[i].second});
  }
  out["top_features"] = top;
  return out;
}

json predict_json(Workspace& ws, const std::string& workspace_dir, const std::string& model_id,
                  const std::string& from, const std::string& to) {
  ml::PredictOptions options;
  options.workspace = workspace_dir;
  if (!from.empty()) options.from = Date::parse(from, "--from");
  if (!to.empty()) options.to = Date::parse(to, "--to");
  const auto s = ml::write_predictions(*ws.store, *ws.catalog, model_id, options);
  return {{"model", model_id},
          {"symbols", s.symbols},
          {"rows", s.rows},
          {"rows_without_model", s.rows_without_model},
          {"partitions_written", s.partitions_written},
          {"partitions_unchanged", s.partitions_unchanged},
          {"from", s.from_day ? Date(s.from_day).to_string() : ""},
          {"to", s.to_day ? Date(s.to_day).to_string() : ""}};
}

void add_ml_commands(CLI::App& app, Globals& g, Action& action) {
  auto* ml = app.add_subcommand("ml", "Machine learning: train walk-forward on a feature set, evaluate, register, predict");
  ml->require_subcommand(1);
  {
    auto* cmd = ml->add_subcommand(
        "train", "Train a model walk-forward from a config (model.toml; see docs/architecture.md) and register it");
    auto config = std::make_shared<std::string>();
    auto export_dir = std::make_shared<std::string>();
    cmd->add_option("--config", *config, "The model's TOML config")->required();
    cmd->add_option("--export", *export_dir, "Also write each split's prepared matrices there as .npy (for other tools)");
    cmd->add_flag("--json", g.json, "Machine-readable result");
    cmd->callback([&g, &action, config, export_dir] {
      action = [&g, config, export_dir] {
        const ml::ModelConfig c = ml::ModelConfig::load(*config);
        Workspace ws = open_workspace(g.workspace);
        std::function<void(const std::string&)> progress;
        if (!g.json) progress = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
        const json out = train_json(ws, g.workspace, c, *export_dir, progress);
        if (g.json) {
          fmt::print("{}\n", out.dump());
          return 0;
        }
        fmt::print("model {} ({}, {} on {}){}\n", out["id"].get<std::string>(), out["kind"].get<std::string>(),
                   out["label"].get<std::string>(), out["feature_set"].get<std::string>(),
                   out["already_registered"].get<bool>() ? ": registered already, nothing trained" : "");
        fmt::print("  {} split(s) over {} .. {}; artefacts in the lake under {}\n", out["splits"].get<int64_t>(),
                   out["from"].get<std::string>(), out["to"].get<std::string>(), out["artefacts"].get<std::string>());
        print_summary(out["metrics"]["test"]);
        if (!out["top_features"].empty()) {
          std::string top;
          for (const auto& f : out["top_features"]) {
            top += fmt::format("{}{} {:.3g}", top.empty() ? "" : ", ", f[0].get<std::string>(), f[1].get<double>());
          }
          fmt::print("  top features (final model): {}\n", top);
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = ml->add_subcommand("list", "List the registered models, newest first");
    cmd->add_flag("--json", g.json, "One JSON object per model, one per line");
    cmd->callback([&g, &action] {
      action = [&g] {
        Workspace ws = open_workspace(g.workspace);
        const auto models = ws.catalog->list_models();
        if (!g.json) {
          fmt::print("{:<32} {:<8} {:<10} {:>10} {:>10} {:>9} {:>9}  {}\n", "id", "kind", "features", "from", "to",
                     "rank IC", "rank ICIR", "created");
        }
        for (const auto& m : models) {
          const json j = model_json(m);
          if (g.json) {
            fmt::print("{}\n", j.dump());
            continue;
          }
          const json& t = j["metrics"]["test"];
          fmt::print("{:<32} {:<8} {:<10} {:>10} {:>10} {:>9} {:>9}  {}\n", m.id, m.kind, m.feature_set,
                     Date(m.from_day).to_string(), Date(m.to_day).to_string(), num(t["rank_ic_mean"]),
                     num(t["rank_icir"]), j["created_at"].get<std::string>());
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = ml->add_subcommand("show", "Show a model: config, dataset, every split's windows and scores, metrics");
    auto id = std::make_shared<std::string>();
    cmd->add_option("model", *id, "Model id (trib ml list)")->required();
    cmd->add_flag("--json", g.json, "The registry row and the manifest as JSON");
    cmd->callback([&g, &action, id] {
      action = [&g, id] {
        Workspace ws = open_workspace(g.workspace);
        const auto record = ml::find_model(*ws.catalog, *id);
        const json manifest = ml::read_manifest(*ws.store, record);
        json out = model_json(record);
        if (g.json) {
          out["manifest"] = manifest;
          out["config"] = record.config_toml;
          fmt::print("{}\n", out.dump());
          return 0;
        }
        fmt::print("model {} ({}), created {}, code {}\n", record.id, record.kind, out["created_at"].get<std::string>(),
                   record.code_version);
        fmt::print("dataset {}: {} x {} symbol(s), {} .. {}, {} rows; label {} (horizon {} sessions)\n",
                   record.dataset_hash.substr(0, 12), record.feature_set, manifest["universe"].size(),
                   manifest["from"].get<std::string>(), manifest["to"].get<std::string>(),
                   manifest["dataset_rows"].get<int64_t>(), record.label, manifest["label_horizon"].get<int>());
        fmt::print("splits:\n");
        for (const auto& s : manifest["splits"]) {
          fmt::print("  {:>3}  train {} .. {} ({} rows, {} purged)  valid {} .. {}  test {} .. {}  rank IC {}  {}\n",
                     s["index"].get<int>(), s["train_from"].get<std::string>(), s["train_to"].get<std::string>(),
                     s["train_rows"].get<int64_t>(), s["purged"].get<int64_t>(), s["valid_from"].get<std::string>(),
                     s["valid_to"].get<std::string>(), s["test_from"].get<std::string>(),
                     s["test_to"].get<std::string>(), num(s["test_metrics"]["rank_ic_mean"]), s["fit"].dump());
        }
        fmt::print("test period:\n");
        print_summary(out["metrics"]["test"]);
        fmt::print("config:\n{}", record.config_toml);
        return 0;
      };
    });
  }
  {
    auto* cmd = ml->add_subcommand("compare", "Compare models' test metrics side by side");
    auto ids = std::make_shared<std::vector<std::string>>();
    cmd->add_option("models", *ids, "Two or more model ids")->required()->expected(2, 64);
    cmd->add_flag("--json", g.json, "The metrics of each as JSON");
    cmd->callback([&g, &action, ids] {
      action = [&g, ids] {
        Workspace ws = open_workspace(g.workspace);
        json all = json::array();
        for (const auto& id : *ids) {
          all.push_back(model_json(ml::find_model(*ws.catalog, id)));
        }
        if (g.json) {
          fmt::print("{}\n", all.dump());
          return 0;
        }
        const char* rows[][2] = {{"dates", "{:.0f}"},          {"ic_mean", "{:.4f}"},       {"icir", "{:.4f}"},
                                 {"rank_ic_mean", "{:.4f}"},   {"rank_icir", "{:.4f}"},     {"ic_positive_share", "{:.3f}"},
                                 {"hit_rate", "{:.4f}"},       {"long_short_mean", "{:.5f}"}, {"long_short_ir", "{:.4f}"},
                                 {"turnover_mean", "{:.3f}"},  {"monotonicity", "{:.3f}"}};
        fmt::print("{:<20}", "");
        for (const auto& m : all) fmt::print(" {:>32}", m["id"].get<std::string>());
        fmt::print("\n{:<20}", "kind / features");
        for (const auto& m : all) fmt::print(" {:>32}", m["kind"].get<std::string>() + " / " + m["feature_set"].get<std::string>());
        fmt::print("\n{:<20}", "test dates");
        for (const auto& m : all) fmt::print(" {:>32}", m["from"].get<std::string>() + " .. " + m["to"].get<std::string>());
        fmt::print("\n");
        for (const auto& [key, format] : rows) {
          fmt::print("{:<20}", key);
          for (const auto& m : all) fmt::print(" {:>32}", num(m["metrics"]["test"][key], format));
          fmt::print("\n");
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = ml->add_subcommand(
        "predict", "Write a model's out-of-sample forecasts to predictions/model=<id>/ (incremental, idempotent)");
    auto id = std::make_shared<std::string>();
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    cmd->add_option("--model", *id, "Model id (trib ml list)")->required();
    cmd->add_option("--from", *from, "First session (default: the model's first test date)");
    cmd->add_option("--to", *to, "Last session (default: the newest features)");
    cmd->add_flag("--json", g.json, "Machine-readable summary");
    cmd->callback([&g, &action, id, from, to] {
      action = [&g, id, from, to] {
        Workspace ws = open_workspace(g.workspace);
        const json out = predict_json(ws, g.workspace, *id, *from, *to);
        const int64_t rows_without_model = out["rows_without_model"].get<int64_t>();
        if (g.json) {
          fmt::print("{}\n", out.dump());
        } else {
          fmt::print("predictions/model={}: {} forecast(s) for {} symbol(s), {} .. {}; {} partition(s) written, {} "
                     "unchanged{}\n",
                     *id, out["rows"].get<int64_t>(), out["symbols"].get<int64_t>(), out["from"].get<std::string>(),
                     out["to"].get<std::string>(), out["partitions_written"].get<int64_t>(),
                     out["partitions_unchanged"].get<int64_t>(),
                     rows_without_model > 0
                         ? fmt::format("; {} row(s) before the first test window have no out-of-sample model",
                                       rows_without_model)
                         : "");
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = ml->add_subcommand("predictions", "Print a model's predictions known at the close of --as-of (CSV)");
    auto id = std::make_shared<std::string>();
    auto symbols = std::make_shared<std::vector<std::string>>();
    auto from = std::make_shared<std::string>("1900-01-01");
    auto as_of = std::make_shared<std::string>();
    cmd->add_option("--model", *id, "Model id")->required();
    cmd->add_option("--symbol", *symbols, "Symbols (repeatable; default: all)");
    cmd->add_option("--from", *from, "First session");
    cmd->add_option("--as-of", *as_of, "Last session (default: today)");
    cmd->callback([&g, &action, id, symbols, from, as_of] {
      action = [&g, id, symbols, from, as_of] {
        Workspace ws = open_workspace(g.workspace);
        std::vector<Symbol> wanted;
        for (const auto& s : *symbols) wanted.push_back(Symbol::parse(s));
        const Date until = as_of->empty() ? Date::today_utc() : Date::parse(*as_of, "--as-of");
        fmt::print("session_date,symbol,prediction,split\n");
        for (const auto& r : ml::read_predictions(*ws.store, *ws.catalog, *id, wanted, Date::parse(*from, "--from"), until)) {
          fmt::print("{},{},{},{}\n", Date(r.day).to_string(), r.symbol, r.prediction, r.split);
        }
        return 0;
      };
    });
  }
}

}  // namespace trib::cli
