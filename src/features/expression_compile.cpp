// The expression language's front end: text -> syntax tree (with each token's column) -> a
// checked graph of nodes shared across the set's formulas (common sub-expressions once).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "expression_node.hpp"
#include "trib/core/error.hpp"

namespace trib::features::expr {
namespace {

// ---- Syntax ----

struct Syntax {
  enum Kind { kNumber, kField, kCall, kUnary, kBinary } kind;
  std::string text;        // field or function name, operator
  double number = 0;
  std::string select;      // ".output" after a call
  std::vector<Syntax> args;
  int column = 0;          // 1-based
  int depth = 1;           // levels below and including this node
};

class CompileError {
 public:
  CompileError(std::string message, int column, std::string detail = "")
      : message(std::move(message)), column(column), detail(std::move(detail)) {}
  std::string message;  // the problem
  int column;
  std::string detail;   // what is allowed, after the position: "; the functions are ..."
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Syntax parse() {
    Syntax e = parse_or();
    skip_space();
    if (pos_ < text_.size()) fail(fmt::format("unexpected '{}'", text_[pos_]));
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& message) { throw CompileError(message, column()); }
  int column() const { return static_cast<int>(pos_) + 1; }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  void expect(char c, const char* what) {
    skip_space();
    if (pos_ >= text_.size()) fail(fmt::format("expected '{}' {} but the formula ended", c, what));
    if (text_[pos_] != c) fail(fmt::format("expected '{}' {}, found '{}'", c, what, text_[pos_]));
    ++pos_;
  }

  Syntax binary(std::string op, Syntax left, Syntax right, int column) {
    Syntax s{Syntax::kBinary, std::move(op)};
    s.column = column;
    s.args.push_back(std::move(left));
    s.args.push_back(std::move(right));
    return sized(std::move(s));
  }

  // Parsing, compiling and freeing a tree recurse once per level: the nesting is bounded, so a
  // pathological formula is an error, not a stack overflow. One Nest per level entered.
  class Nest {
   public:
    Nest(Parser& parser, bool counts) : parser_(parser), counts_(counts) {
      if (counts_ && ++parser_.nesting_ > kMaxDepth) {
        parser_.fail(fmt::format("the formula nests deeper than {} levels", kMaxDepth));
      }
    }
    ~Nest() {
      if (counts_) --parser_.nesting_;
    }

   private:
    Parser& parser_;
    bool counts_;
  };

  // One precedence level, left-associative: next (op next)*; `ops` pairs each spelling (longest
  // first) with the operator it means.
  using Level = Syntax (Parser::*)();
  Syntax left_associative(Level next, std::initializer_list<std::pair<const char*, const char*>> ops) {
    Syntax left = (this->*next)();
    for (;;) {
      skip_space();
      const int at = column();
      const char* op = nullptr;
      for (const auto& [spelling, name] : ops) {
        if (accept(spelling)) {
          op = name;
          break;
        }
      }
      if (!op) return left;
      left = binary(op, std::move(left), (this->*next)(), at);
    }
  }

  Syntax parse_or() {
    const Nest nest(*this, true);
    return left_associative(&Parser::parse_and, {{"||", "|"}, {"|", "|"}});
  }
  Syntax parse_and() { return left_associative(&Parser::parse_comparison, {{"&&", "&"}, {"&", "&"}}); }
  Syntax parse_comparison() {
    return left_associative(&Parser::parse_sum,
                            {{"<=", "<="}, {">=", ">="}, {"==", "=="}, {"!=", "!="}, {"<", "<"}, {">", ">"}});
  }
  Syntax parse_sum() { return left_associative(&Parser::parse_product, {{"+", "+"}, {"-", "-"}}); }
  Syntax parse_product() { return left_associative(&Parser::parse_unary, {{"*", "*"}, {"/", "/"}}); }
  Syntax parse_unary() {
    skip_space();
    const int at = column();
    const bool sign = pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+');
    const Nest nest(*this, sign);  // a sign nests too
    if (accept("-")) {
      Syntax operand = parse_unary();
      if (operand.kind == Syntax::kNumber) {  // a negative literal stays a constant (Ref($close, -5))
        operand.number = -operand.number;
        operand.column = at;
        return operand;
      }
      Syntax s{Syntax::kUnary, "-"};
      s.column = at;
      s.args.push_back(std::move(operand));
      return sized(std::move(s));
    }
    if (accept("+")) return parse_unary();
    return parse_postfix();
  }
  Syntax parse_postfix() {
    Syntax e = parse_primary();
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '.' && e.kind == Syntax::kCall) {
      ++pos_;
      skip_space();
      const size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
      if (start == pos_) fail("expected an output name after '.'");
      e.select = std::string(text_.substr(start, pos_ - start));
    }
    return e;
  }
  Syntax parse_primary() {
    skip_space();
    const int at = column();
    if (pos_ >= text_.size()) fail("the formula ended where a value was expected");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      Syntax inner = parse_or();
      expect(')', "to close the parenthesis");
      return inner;
    }
    if (c == '$') {
      ++pos_;
      const size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
      if (start == pos_) fail("expected a field name after '$' ($open, $high, $low, $close, $volume, $vwap)");
      Syntax s{Syntax::kField, std::string(text_.substr(start, pos_ - start))};
      s.column = at;
      return s;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      // [digits][.digits][e[+-]digits]
      size_t end = pos_;
      while (end < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.')) ++end;
      if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
        size_t exp = end + 1;
        if (exp < text_.size() && (text_[exp] == '+' || text_[exp] == '-')) ++exp;
        if (exp < text_.size() && std::isdigit(static_cast<unsigned char>(text_[exp]))) {
          end = exp;
          while (end < text_.size() && std::isdigit(static_cast<unsigned char>(text_[end]))) ++end;
        }
      }
      double value = 0;
      const auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + end, value);
      if (ec != std::errc() || ptr != text_.data() + end) fail(fmt::format("'{}' is not a number", text_.substr(pos_, end - pos_)));
      pos_ = end;
      Syntax s{Syntax::kNumber, ""};
      s.number = value;
      s.column = at;
      return s;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
      Syntax s{Syntax::kCall, std::string(text_.substr(start, pos_ - start))};
      s.column = at;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '(') {
        throw CompileError(fmt::format("'{}' is not a value: fields start with '$' ($close), functions take "
                                       "arguments ({}(...))", s.text, s.text), at);
      }
      ++pos_;
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ')') {
        ++pos_;
        return s;
      }
      for (;;) {
        s.args.push_back(parse_or());
        skip_space();
        if (accept(",")) continue;
        expect(')', fmt::format("to close {}(", s.text).c_str());
        return sized(std::move(s));
      }
    }
    fail(fmt::format("unexpected '{}'", c));
  }

  static constexpr int kMaxDepth = 200;
  // A tree node's depth, checked as the tree grows (a long chain a+b+c+... is deep too).
  Syntax sized(Syntax s) {
    s.depth = 1;
    for (const auto& a : s.args) s.depth = std::max(s.depth, a.depth + 1);
    if (s.depth > kMaxDepth) throw CompileError(fmt::format("the formula nests deeper than {} levels", kMaxDepth), s.column);
    return s;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int nesting_ = 0;  // levels entered (parentheses, calls' arguments, signs)
};

// ---- The operator table ----

// An argument's kind: a series (any expression), a window (whole-number constant >= min), an
// offset (whole-number constant, any sign) or a real constant.
enum class Arg { kSeries, kWindow, kOffset, kReal };

struct OpInfo {
  Op op;
  std::vector<Arg> args;
  int min_window = 1;
};

const std::map<std::string, OpInfo>& operator_table() {
  static const std::map<std::string, OpInfo> table = [] {
    std::map<std::string, OpInfo> t;
    const std::vector<Arg> window = {Arg::kSeries, Arg::kWindow};
    t["Ref"] = {Op::kRef, {Arg::kSeries, Arg::kOffset}};
    t["Delta"] = {Op::kDelta, window};
    t["Mean"] = {Op::kMean, window};
    t["Sum"] = {Op::kSum, window};
    t["Std"] = {Op::kStd, window, 2};
    t["Var"] = {Op::kVar, window, 2};
    t["Skew"] = {Op::kSkew, window, 3};
    t["Kurt"] = {Op::kKurt, window, 4};
    t["Max"] = {Op::kMax, window};
    t["Min"] = {Op::kMin, window};
    t["IdxMax"] = {Op::kIdxMax, window};
    t["IdxMin"] = {Op::kIdxMin, window};
    t["Rank"] = {Op::kRank, window};
    t["Quantile"] = {Op::kQuantile, {Arg::kSeries, Arg::kWindow, Arg::kReal}};
    t["Med"] = {Op::kMed, window};
    t["Mad"] = {Op::kMad, window};
    t["Corr"] = {Op::kCorr, {Arg::kSeries, Arg::kSeries, Arg::kWindow}, 2};
    t["Cov"] = {Op::kCov, {Arg::kSeries, Arg::kSeries, Arg::kWindow}, 2};
    t["Slope"] = {Op::kSlope, window, 2};
    t["Rsquare"] = {Op::kRsquare, window, 2};
    t["Resi"] = {Op::kResi, window, 2};
    t["Abs"] = {Op::kAbs, {Arg::kSeries}};
    t["Sign"] = {Op::kSign, {Arg::kSeries}};
    t["Log"] = {Op::kLog, {Arg::kSeries}};
    t["Power"] = {Op::kPower, {Arg::kSeries, Arg::kSeries}};
    t["If"] = {Op::kIf, {Arg::kSeries, Arg::kSeries, Arg::kSeries}};
    t["Greater"] = {Op::kGreater, {Arg::kSeries, Arg::kSeries}};
    t["Less"] = {Op::kLess, {Arg::kSeries, Arg::kSeries}};
    t["CSRank"] = {Op::kCsRank, {Arg::kSeries}};
    t["CSZScore"] = {Op::kCsZScore, {Arg::kSeries}};
    t["CSDemean"] = {Op::kCsDemean, {Arg::kSeries}};
    t["CSNeutralize"] = {Op::kCsNeutralize, {Arg::kSeries, Arg::kSeries}};
    return t;
  }();
  return table;
}

const char* kFields[] = {"open", "high", "low", "close", "volume", "vwap"};

std::string number_text(double v) { return fmt::format("{}", v); }

// Rows of history a node needs before its first value, given its inputs' (`inner`); -1 = its
// whole past.
int lookback_of(const Node& n, int inner) {
  if (inner < 0 || n.op == Op::kIndicator) return -1;  // Wilder/EMA recursions remember their whole past
  switch (n.op) {
    case Op::kRef: return inner + std::max(n.window, 0);
    case Op::kDelta: return inner + n.window;
    default: return n.window > 0 ? inner + n.window - 1 : inner;
  }
}

bool is_cross_sectional(Op op) {
  return op == Op::kCsRank || op == Op::kCsZScore || op == Op::kCsDemean || op == Op::kCsNeutralize;
}

// ---- Compilation: syntax -> shared nodes ----

class Compiler {
 public:
  explicit Compiler(Purpose purpose) : purpose_(purpose) {}

  int compile(const Syntax& s) {
    switch (s.kind) {
      case Syntax::kNumber: {
        Node n;
        n.op = Op::kConst;
        n.value = s.number;
        n.key = number_text(s.number);
        return intern(std::move(n));
      }
      case Syntax::kField: {
        const auto* it = std::find(std::begin(kFields), std::end(kFields), s.text);
        if (it == std::end(kFields)) {
          throw CompileError(fmt::format("unknown field '${}'; the fields are $open, $high, $low, $close, $volume, $vwap",
                                         s.text), s.column);
        }
        Node n;
        n.op = Op::kField;
        n.field = static_cast<int>(it - std::begin(kFields));
        n.key = "$" + s.text;
        return intern(std::move(n));
      }
      case Syntax::kUnary: {
        Node n;
        n.op = Op::kNeg;
        n.args = {compile(s.args[0])};
        n.key = "(-" + key(n.args[0]) + ")";
        return intern(std::move(n));
      }
      case Syntax::kBinary: return compile_binary(s);
      case Syntax::kCall: return compile_call(s);
    }
    throw CompileError("unknown syntax", s.column);
  }

  std::vector<std::shared_ptr<const Node>> take_nodes() { return std::move(nodes_); }
  const Node& node(int i) const { return *nodes_[static_cast<size_t>(i)]; }

 private:
  const std::string& key(int i) const { return nodes_[static_cast<size_t>(i)]->key; }

  int intern(Node n) {
    n.cross_sectional = is_cross_sectional(n.op);
    int inner = 0;
    int ahead = 0;
    for (int a : n.args) {
      n.cross_sectional = n.cross_sectional || node(a).cross_sectional;
      inner = (inner < 0 || node(a).lookback < 0) ? -1 : std::max(inner, node(a).lookback);
      ahead = std::max(ahead, node(a).lookahead);
    }
    n.lookback = lookback_of(n, inner);
    n.lookahead = ahead + (n.op == Op::kRef && n.window < 0 ? -n.window : 0);
    auto it = by_key_.find(n.key);
    if (it != by_key_.end()) return it->second;
    const int index = static_cast<int>(nodes_.size());
    by_key_.emplace(n.key, index);
    nodes_.push_back(std::make_shared<const Node>(std::move(n)));
    return index;
  }

  int compile_binary(const Syntax& s) {
    static const std::map<std::string, Op> ops = {{"+", Op::kAdd}, {"-", Op::kSub}, {"*", Op::kMul}, {"/", Op::kDiv},
                                                  {"<", Op::kLt},  {">", Op::kGt},  {"<=", Op::kLe}, {">=", Op::kGe},
                                                  {"==", Op::kEq}, {"!=", Op::kNe}, {"&", Op::kAnd}, {"|", Op::kOr}};
    Node n;
    n.op = ops.at(s.text);
    n.args = {compile(s.args[0]), compile(s.args[1])};
    n.key = "(" + key(n.args[0]) + s.text + key(n.args[1]) + ")";
    return intern(std::move(n));
  }

  // A whole-number constant argument (a window or an offset), or a positioned error.
  int whole_constant(const Syntax& arg, const std::string& fn, const char* what) {
    if (arg.kind != Syntax::kNumber) {
      throw CompileError(fmt::format("{}'s {} must be a whole-number constant", fn, what), arg.column);
    }
    if (arg.number != std::floor(arg.number) || std::fabs(arg.number) > 1e6) {
      throw CompileError(fmt::format("{}'s {} must be a whole number, got {}", fn, what, number_text(arg.number)),
                         arg.column);
    }
    return static_cast<int>(arg.number);
  }

  int compile_call(const Syntax& s) {
    const auto& table = operator_table();
    auto it = table.find(s.text);
    if (it == table.end()) {
      // EMA, WMA, RSI, ... : the indicator library by its TA-Lib name.
      for (const auto& spec : indicator_specs()) {
        if (spec.name == s.text) return compile_indicator(s, spec);
      }
      std::vector<std::string> known;
      for (const auto& [name, info] : table) known.push_back(name);
      for (const auto& spec : indicator_specs()) known.push_back(spec.name);
      std::string hint;
      for (const auto& name : known) {  // a case slip is the common mistake
        if (name.size() == s.text.size() &&
            std::equal(name.begin(), name.end(), s.text.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
          hint = fmt::format(" (did you mean {}?)", name);
        }
      }
      throw CompileError(fmt::format("unknown function '{}'{}", s.text, hint), s.column,
                         fmt::format("; the functions are {}", fmt::join(known, ", ")));
    }
    const OpInfo& info = it->second;
    if (!s.select.empty()) throw CompileError(fmt::format("{} has one output; '.{}' selects nothing", s.text, s.select), s.column);
    if (s.args.size() != info.args.size()) {
      throw CompileError(fmt::format("{} takes {} argument{}, got {}", s.text, info.args.size(),
                                     info.args.size() == 1 ? "" : "s", s.args.size()), s.column);
    }
    Node n;
    n.op = info.op;
    std::vector<std::string> parts;
    for (size_t k = 0; k < s.args.size(); ++k) {
      const Syntax& arg = s.args[k];
      switch (info.args[k]) {
        case Arg::kSeries:
          n.args.push_back(compile(arg));
          parts.push_back(key(n.args.back()));
          break;
        case Arg::kWindow: {
          const int w = whole_constant(arg, s.text, "window");
          if (w < info.min_window) {
            throw CompileError(fmt::format("window must be >= {}", info.min_window), arg.column);
          }
          n.window = w;
          parts.push_back(std::to_string(w));
          break;
        }
        case Arg::kOffset: {
          const int offset = whole_constant(arg, s.text, "offset");
          if (offset < 0 && purpose_ == Purpose::kFeature) {
            throw CompileError(fmt::format("Ref({}) reads {} session(s) into the future: allowed in labels, not in "
                                           "features", offset, -offset), arg.column);
          }
          n.window = offset;
          parts.push_back(std::to_string(offset));
          break;
        }
        case Arg::kReal:
          if (arg.kind != Syntax::kNumber) throw CompileError(fmt::format("{}'s argument must be a constant", s.text), arg.column);
          if (info.op == Op::kQuantile && (arg.number < 0 || arg.number > 1)) {
            throw CompileError(fmt::format("quantile must be from 0 to 1, got {}", number_text(arg.number)), arg.column);
          }
          n.value = arg.number;
          parts.push_back(number_text(arg.number));
          break;
      }
    }
    n.key = fmt::format("{}({})", s.text, fmt::join(parts, ","));
    return intern(std::move(n));
  }

  int compile_indicator(const Syntax& s, const IndicatorSpec& spec) {
    const size_t inputs = spec.inputs.size();
    if (s.args.size() < inputs || s.args.size() > inputs + spec.params.size()) {
      std::vector<std::string> params;
      for (const auto& p : spec.params) params.push_back(p.name);
      throw CompileError(fmt::format("{} takes {} input series ({}) then up to {} parameter(s){}{}; got {} argument(s)",
                                     spec.name, inputs, fmt::join(spec.inputs, ", "), spec.params.size(),
                                     params.empty() ? "" : ": ", fmt::join(params, ", "), s.args.size()),
                         s.column);
    }
    Node n;
    n.op = Op::kIndicator;
    n.indicator = &spec;
    std::vector<std::string> parts;
    for (size_t k = 0; k < inputs; ++k) {
      n.args.push_back(compile(s.args[k]));
      parts.push_back(key(n.args.back()));
    }
    for (size_t k = 0; k < spec.params.size(); ++k) {
      const IndicatorParam& p = spec.params[k];
      double v = p.default_value;
      if (inputs + k < s.args.size()) {
        const Syntax& arg = s.args[inputs + k];
        if (arg.kind != Syntax::kNumber) {
          throw CompileError(fmt::format("{}'s {} must be a constant", spec.name, p.name), arg.column);
        }
        v = arg.number;
        if (!p.accepts(v)) {
          throw CompileError(fmt::format("{}'s {} must be {}, got {}", spec.name, p.name, p.allowed(), number_text(v)),
                             arg.column);
        }
      }
      n.params.push_back(v);
      parts.push_back(number_text(v));
    }
    n.output = 0;
    if (spec.outputs.size() > 1 && s.select.empty()) {
      throw CompileError(fmt::format("{} has {} outputs ({}): pick one, e.g. {}(...).{}", spec.name, spec.outputs.size(),
                                     fmt::join(spec.outputs, ", "), spec.name, spec.outputs[1]), s.column);
    }
    if (!s.select.empty()) {
      auto at = std::find(spec.outputs.begin(), spec.outputs.end(), s.select);
      if (at == spec.outputs.end()) {
        throw CompileError(fmt::format("{} has no output '{}'; its outputs are {}", spec.name, s.select,
                                       fmt::join(spec.outputs, ", ")), s.column);
      }
      n.output = static_cast<int>(at - spec.outputs.begin());
    }
    n.key = fmt::format("{}({}){}", spec.name, fmt::join(parts, ","),
                        spec.outputs.size() > 1 ? "." + spec.outputs[static_cast<size_t>(n.output)] : "");
    return intern(std::move(n));
  }

  Purpose purpose_;
  std::vector<std::shared_ptr<const Node>> nodes_;
  std::unordered_map<std::string, int> by_key_;
};

}  // namespace

Program Program::compile(const std::vector<std::pair<std::string, std::string>>& named, Purpose purpose) {
  Program program;
  Compiler compiler(purpose);
  for (const auto& [name, text] : named) {
    if (std::find(program.names_.begin(), program.names_.end(), name) != program.names_.end()) {
      throw Error::InvalidInput(fmt::format("feature '{}' is defined twice", name));
    }
    try {
      program.outputs_.push_back(compiler.compile(Parser(text).parse()));
    } catch (const CompileError& e) {
      throw Error::InvalidInput(fmt::format("{}: {} at column {}{}\n  {}\n  {}^", name, e.message, e.column, e.detail, text,
                                            std::string(static_cast<size_t>(std::max(0, e.column - 1)), ' ')));
    }
    program.names_.push_back(name);
  }
  program.nodes_ = compiler.take_nodes();
  for (int out : program.outputs_) {
    const int l = program.nodes_[static_cast<size_t>(out)]->lookback;
    program.lookback_ = (l < 0 || program.lookback_ < 0) ? -1 : std::max(program.lookback_, l);
    program.lookahead_ = std::max(program.lookahead_, program.nodes_[static_cast<size_t>(out)]->lookahead);
    program.cross_sectional_ = program.cross_sectional_ || program.nodes_[static_cast<size_t>(out)]->cross_sectional;
  }
  return program;
}

std::string Program::canonical(size_t i) const { return nodes_[static_cast<size_t>(outputs_.at(i))]->key; }

}  // namespace trib::features::expr
