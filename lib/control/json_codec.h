// JsonCodec: the few non-throwing nlohmann-json helpers the control codecs (table_codec, event_codec) are
// built from: parse text into an object, read one typed field with a range check, dump compact text.
// Every failure is a Result saying which field and why (Code::invalid_argument); none of these may throw or
// abort on any input: parse(text, nullptr, false) and is_discarded(), types checked before get<>(), dump
// with invalid UTF-8 replaced. Objects keep their keys in insertion order (ordered_json), so an encoder's
// text has the field order it writes them in. Also what the control server's error replies and the
// tools' --json outputs are written with; daemons exchange messages through the typed codecs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace castor::json_codec {

using Json = nlohmann::ordered_json;

// Compact JSON text (no spaces); invalid UTF-8 in strings is replaced by U+FFFD rather than thrown on.
std::string dump(const Json& j);
// The same with every character past ASCII as \uXXXX: for a terminal (no C1 control or bidi override
// from someone else's text reaches it raw).
std::string dump_ascii(const Json& j);

// The JSON object `text` holds; an error if it is not valid JSON or not an object.
Result<Json> parse_object(std::string_view text);

// The object's field `key`, typed. Missing, of another type, or out of range: an error naming the key.
Result<std::string> get_string(const Json& obj, std::string_view key);
Result<bool> get_bool(const Json& obj, std::string_view key);
Result<uint64_t> get_u64(const Json& obj, std::string_view key, uint64_t max = UINT64_MAX);
Result<int64_t> get_i64(const Json& obj, std::string_view key);
// The field `key` if it is an array / object (else an error); the pointer is into `obj`.
Result<const Json*> get_array(const Json& obj, std::string_view key);
Result<const Json*> get_object(const Json& obj, std::string_view key);
bool has(const Json& obj, std::string_view key);

// A reply's "ok": OK when true; when false, an error (Code::refused) carrying the reply's "error" text.
Status check_ok(const Json& reply);

}  // namespace castor::json_codec
