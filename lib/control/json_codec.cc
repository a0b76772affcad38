#include "control/json_codec.h"

#include <limits>

namespace castor::json_codec {

namespace {

Status bad(std::string_view key, std::string_view why) {
  return Error(Code::invalid_argument, "'" + std::string(key) + "' " + std::string(why));
}

// The field, or nullptr when `obj` is not an object or has no such key.
const Json* field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

}  // namespace

std::string dump(const Json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
std::string dump_ascii(const Json& j) { return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace); }

Result<Json> parse_object(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return Error(Code::invalid_argument, "not valid JSON");
  if (!j.is_object()) return Error(Code::invalid_argument, "not a JSON object");
  return j;
}

bool has(const Json& obj, std::string_view key) { return field(obj, key) != nullptr; }

Result<std::string> get_string(const Json& obj, std::string_view key) {
  const Json* f = field(obj, key);
  if (!f) return bad(key, "is missing");
  if (!f->is_string()) return bad(key, "must be a string");
  return f->get<std::string>();
}

Result<bool> get_bool(const Json& obj, std::string_view key) {
  const Json* f = field(obj, key);
  if (!f) return bad(key, "is missing");
  if (!f->is_boolean()) return bad(key, "must be true or false");
  return f->get<bool>();
}

Result<uint64_t> get_u64(const Json& obj, std::string_view key, uint64_t max) {
  const Json* f = field(obj, key);
  if (!f) return bad(key, "is missing");
  // nlohmann stores a non-negative integer as unsigned; a negative one or a float is not a count.
  if (!f->is_number_unsigned()) return bad(key, "must be an unsigned integer");
  const uint64_t v = f->get<uint64_t>();
  if (v > max) return bad(key, "is out of range (at most " + std::to_string(max) + ")");
  return v;
}

Result<int64_t> get_i64(const Json& obj, std::string_view key) {
  const Json* f = field(obj, key);
  if (!f) return bad(key, "is missing");
  if (f->is_number_unsigned()) {
    const uint64_t v = f->get<uint64_t>();
    if (v > uint64_t(std::numeric_limits<int64_t>::max())) return bad(key, "is out of range");
    return int64_t(v);
  }
  if (!f->is_number_integer()) return bad(key, "must be an integer");
  return f->get<int64_t>();
}

Result<const Json*> get_array(const Json& obj, std::string_view key) {
  const Json* f = field(obj, key);
  if (!f) return bad(key, "is missing");
  if (!f->is_array()) return bad(key, "must be an array");
  return f;
}

Result<const Json*> get_object(const Json& obj, std::string_view key) {
  const Json* f = field(obj, key);
  if (!f) return bad(key, "is missing");
  if (!f->is_object()) return bad(key, "must be an object");
  return f;
}

Status check_ok(const Json& reply) {
  ASSIGN_OR_RETURN(bool ok, get_bool(reply, "ok"));
  if (ok) return Status::Ok();
  // An error always says why: an empty or missing reason becomes this one (the fuzzer found {"ok":false,
  // "error":""} refused with an empty message).
  const Json* e = field(reply, "error");
  if (e && e->is_string() && !e->get<std::string>().empty()) return Error(Code::refused, e->get<std::string>());
  return Error(Code::refused, "refused (no reason given)");
}

}  // namespace castor::json_codec
